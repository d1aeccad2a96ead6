// The `pricing:` overrides (negotiated discounts, private prices) and the
// `schedules:` section (cron expressions in a time zone).
#include <regex>

#include "arbiter/common/strings.h"
#include "arbiter/definitions/project_sections.h"
#include "arbiter/time/cron.h"

namespace arbiter::definitions::internal {
namespace {

const std::vector<std::string> kPricingKeys = {"discounts", "dbu_rates", "instance_prices"};
// What a discount applies to; each is a fraction off list price.
const std::vector<std::string> kDiscountTargets = {"ec2", "emr", "emr_serverless",
                                                   "databricks_dbu"};
const std::vector<std::string> kDbuSkus = {"jobs_compute", "jobs_compute_photon",
                                           "all_purpose_compute", "jobs_serverless"};
const std::vector<std::string> kInstancePriceKeys = {"region", "on_demand", "spot"};
const std::vector<std::string> kScheduleKeys = {"cron",    "timezone", "assets",     "partitions",
                                                "catchup", "enabled",  "description"};

}  // namespace

void ParsePricing(const std::vector<Section>& sections, Project* project) {
  PricingOverrides& out = project->pricing;
  for (const Section& sec : sections) {
    const YamlReader& r = *sec.reader;
    if (!r.CheckKeys(sec.node, "'pricing'", kPricingKeys)) continue;
    yaml::Node discounts = r.Get(sec.node, "discounts");
    if (discounts.IsDefined() && !discounts.IsNull() &&
        r.CheckKeys(discounts, "'pricing: discounts'", kDiscountTargets)) {
      for (const auto& target : kDiscountTargets) {
        if (auto v = r.Number(discounts, target, 0, 1)) {
          if (*v >= 1) {
            r.Error(r.Get(discounts, target), "a discount of 100% or more is not a discount",
                    "discounts are fractions off list price: 0.2 means 20% off");
            continue;
          }
          out.discounts[target] = *v;
          out.locations["discounts." + target] = r.Loc(r.Get(discounts, target));
        }
      }
    }
    yaml::Node rates = r.Get(sec.node, "dbu_rates");
    if (rates.IsDefined() && !rates.IsNull() &&
        r.CheckKeys(rates, "'pricing: dbu_rates' ($ per DBU by SKU)", kDbuSkus)) {
      for (const auto& sku : kDbuSkus) {
        if (auto v = r.Number(rates, sku, 0, 100, /*min_exclusive=*/true)) {
          out.dbu_rates[sku] = *v;
          out.locations["dbu_rates." + sku] = r.Loc(r.Get(rates, sku));
        }
      }
    }
    yaml::Node prices = r.Get(sec.node, "instance_prices");
    if (prices.IsDefined() && !prices.IsNull() &&
        r.ExpectMap(prices, "'pricing: instance_prices' (by instance type)")) {
      static const std::regex type_re("[a-z][a-z0-9-]*\\.[a-z0-9]+");
      for (auto it = prices.begin(); it != prices.end(); ++it) {
        std::string type = it->first.Scalar();
        if (!std::regex_match(type, type_re)) {
          r.Error(it->first, "invalid instance type " + Quote(type),
                  "expected an EC2 instance type like m5.2xlarge");
          continue;
        }
        if (!r.CheckKeys(it->second, "the price of " + Quote(type), kInstancePriceKeys)) continue;
        InstancePrice p;
        p.instance_type = type;
        p.location = r.Loc(it->first);
        p.region = r.String(it->second, "region");
        p.on_demand = r.Number(it->second, "on_demand", 0, 1000, /*min_exclusive=*/true);
        p.spot = r.Number(it->second, "spot", 0, 1000, /*min_exclusive=*/true);
        if (!r.Get(it->second, "on_demand").IsDefined() && !r.Get(it->second, "spot").IsDefined()) {
          r.Error(it->first, "the price of " + Quote(type) + " gives neither on_demand nor spot",
                  "prices are US dollars per instance-hour");
          continue;
        }
        if (p.on_demand && p.spot && *p.spot > *p.on_demand) {
          r.Warning(r.Get(it->second, "spot"),
                    "spot price of " + Quote(type) + " is above its on-demand price");
        }
        out.instance_prices.push_back(std::move(p));
      }
    }
  }
}

void ParseSchedules(
    const std::vector<Section>& sections, Project* project,
    std::map<std::string, std::vector<std::pair<std::string, SourceLocation>>>* schedule_assets) {
  for (const Section& sec : sections) {
    const YamlReader& r = *sec.reader;
    if (!r.ExpectMap(sec.node, "'schedules'")) continue;
    for (auto it = sec.node.begin(); it != sec.node.end(); ++it) {
      auto name = r.ScalarText(it->first, "a schedule name");
      if (!name) continue;
      if (auto prev = project->schedules.find(*name); prev != project->schedules.end()) {
        r.Error(it->first, "schedule " + Quote(*name) + " is defined twice",
                "first defined at " + prev->second.location.ToString());
        continue;
      }
      ScheduleDef s;
      s.name = *name;
      s.location = r.Loc(it->first);
      const yaml::Node& n = it->second;
      if (!r.CheckKeys(n, "schedule " + Quote(*name), kScheduleKeys)) continue;
      if (auto cron = r.String(n, "cron", true, "schedule " + Quote(*name))) {
        Result<time::CronExpression> parsed = time::CronExpression::Parse(*cron);
        if (!parsed.ok()) {
          r.Error(r.Get(n, "cron"), "invalid cron expression " + Quote(*cron) + ": " +
                                        parsed.status().message(),
                  "five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\"");
        }
        s.cron = *cron;
      }
      if (auto tz = r.String(n, "timezone")) {
        Result<std::shared_ptr<const time::TimeZone>> zone = time::LookupTimeZone(*tz);
        if (!zone.ok()) {
          r.Error(r.Get(n, "timezone"), zone.status().message(),
                  "use an IANA name such as UTC, Europe/Vienna or America/New_York");
        }
        s.timezone = *tz;
      }
      auto& assets = (*schedule_assets)[*name];
      for (const auto& [key, node] : r.StringListNodes(n, "assets")) {
        assets.emplace_back(key, r.Loc(node));
      }
      if (assets.empty() && !r.Get(n, "assets").IsDefined()) {
        r.Error(it->first, "schedule " + Quote(*name) + " names no assets",
                "add assets: [ASSET_KEY, ...]");
      }
      if (auto t = r.Enum(n, "partitions", {"latest", "all_missing"})) {
        s.target = *t == "latest" ? ScheduleDef::Target::kLatest : ScheduleDef::Target::kAllMissing;
      }
      if (auto c = r.Enum(n, "catchup", {"latest", "all", "none"})) {
        s.catchup = *c == "latest" ? ScheduleDef::Catchup::kLatest
                    : *c == "all"  ? ScheduleDef::Catchup::kAll
                                   : ScheduleDef::Catchup::kNone;
      }
      if (auto e = r.Bool(n, "enabled")) s.enabled = *e;
      project->schedules[*name] = std::move(s);
    }
  }
}

}  // namespace arbiter::definitions::internal
