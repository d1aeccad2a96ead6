#include "arbiter/cost/overrides_check.h"

#include <set>
#include <sstream>

namespace arbiter::cost {
namespace {

using definitions::RuntimeType;

std::string Usd(double v) {
  std::ostringstream s;
  s << "$" << v;
  return s.str();
}

}  // namespace

void CheckPricing(const PriceCatalog& catalog, const definitions::Project& project,
                  Diagnostics* d) {
  const definitions::PricingOverrides& o = project.pricing;
  std::set<RuntimeType> types;
  std::set<std::string> regions, tiers;
  for (const auto& [name, rt] : project.runtimes) {
    types.insert(rt.type);
    regions.insert(catalog.RegionOf(rt));
    if (rt.type == RuntimeType::kDatabricks) tiers.insert(rt.databricks.pricing_tier);
  }
  auto loc = [&](const std::string& key) {
    auto it = o.locations.find(key);
    return it == o.locations.end() ? SourceLocation{"arbiter.yaml", 0, 0} : it->second;
  };
  // Discounts only matter for a runtime that pays that price.
  const std::pair<const char*, std::vector<RuntimeType>> users[] = {
      {"ec2", {RuntimeType::kEmr, RuntimeType::kDatabricks}},
      {"emr", {RuntimeType::kEmr}},
      {"emr_serverless", {RuntimeType::kEmrServerless}},
      {"databricks_dbu", {RuntimeType::kDatabricks}}};
  for (const auto& [target, needs] : users) {
    if (!o.discounts.count(target) || o.discounts.at(target) == 0) continue;
    bool used = false;
    for (RuntimeType t : needs) used |= types.count(t) > 0;
    if (!used) {
      d->Warning(loc(std::string("discounts.") + target),
                 std::string("discount '") + target + "' applies to no runtime of this project",
                 "remove it, or add the runtime it is meant for");
    }
  }
  for (const auto& [sku, rate] : o.dbu_rates) {
    if (!types.count(RuntimeType::kDatabricks)) {
      d->Warning(loc("dbu_rates." + sku), "$/DBU for '" + sku + "' but no databricks runtime",
                 "remove it, or add a databricks runtime");
      continue;
    }
    for (const std::string& tier : tiers) {
      auto listed = catalog.DbuPrice(tier, sku);  // `catalog` holds list prices
      if (listed && rate > listed->value) {
        d->Warning(loc("dbu_rates." + sku),
                   "$/DBU for '" + sku + "' (" + Usd(rate) + ") is above the " + tier +
                       " list price " + Usd(listed->value) + " (" + listed->source + ", " +
                       listed->date + ")",
                   "negotiated rates are usually below list; check the figure");
      }
    }
  }
  for (const auto& p : o.instance_prices) {
    if (!catalog.Instance(p.instance_type)) {
      d->Warning(p.location,
                 "instance type '" + p.instance_type + "' is not in the price catalog (" +
                     catalog.origin() + ")",
                 "its size is unknown, so placement uses it only where compute.instance_types "
                 "names it; check the spelling");
    }
    std::vector<std::string> check_regions;
    if (p.region) {
      check_regions.push_back(*p.region);
      if (!regions.count(*p.region)) {
        d->Warning(p.location,
                   "price of '" + p.instance_type + "' is for region " + *p.region +
                       ", where no runtime of this project runs",
                   "runtimes price in: " + [&] {
                     std::string s;
                     for (const auto& r : regions) s += (s.empty() ? "" : ", ") + r;
                     return s.empty() ? std::string("(none)") : s;
                   }());
      }
    } else {
      check_regions.assign(regions.begin(), regions.end());
    }
    for (const std::string& region : check_regions) {
      auto listed = catalog.OnDemand(region, p.instance_type);
      if (p.on_demand && listed && *p.on_demand > listed->value) {
        d->Warning(p.location,
                   "private on-demand price of '" + p.instance_type + "' (" + Usd(*p.on_demand) +
                       ") is above the list price " + Usd(listed->value) + " in " + region + " (" +
                       listed->source + ", " + listed->date + ")",
                   "a private price list normally discounts list prices; check the figure");
      }
      if (p.spot && !p.on_demand && !listed) {
        d->Warning(p.location,
                   "'" + p.instance_type + "' has a spot price but no on-demand price in " +
                       region,
                   "add on_demand: the fallback when spot capacity is lost is priced at it");
      }
    }
  }
}

}  // namespace arbiter::cost
