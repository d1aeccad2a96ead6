#include "arbiter/cost/catalog.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#ifndef ARBITER_DATA_DIR
#define ARBITER_DATA_DIR ""
#endif

namespace arbiter::cost {
namespace {

namespace fs = std::filesystem;
using definitions::RuntimeType;

std::string FormatPercent(double fraction) {
  std::ostringstream s;
  s << std::round(fraction * 1000) / 10 << "%";
  return s.str();
}

// A fact reduced by a project discount; the source says so.
PriceFact Discounted(PriceFact f, const definitions::PricingOverrides& o, const std::string& key) {
  auto it = o.discounts.find(key);
  if (it == o.discounts.end() || it->second <= 0) return f;
  f.value *= 1 - it->second;
  f.source += ", less " + FormatPercent(it->second) + " (project pricing: discounts." + key + ")";
  return f;
}

PriceFact ProjectFact(double value, std::string unit, std::string what) {
  return PriceFact{value, std::move(unit), "project pricing: " + std::move(what), "arbiter.yaml"};
}

}  // namespace

Result<PriceCatalog> PriceCatalog::FromJson(const nlohmann::json& doc, std::string origin) {
  PriceCatalog c;
  c.origin_ = std::move(origin);
  if (!doc.is_object()) return InvalidArgumentError(c.origin_ + ": a price catalog is a JSON object");
  for (const char* key : {"catalog_version", "default_region", "sources", "instances", "ec2_on_demand"}) {
    if (!doc.contains(key)) {
      return InvalidArgumentError(c.origin_ + ": not a price catalog (no '" + key +
                                  "'); see data/price-catalog.json for the format");
    }
  }
  c.doc_ = doc;
  c.version_ = doc["catalog_version"].is_string() ? doc["catalog_version"].get<std::string>() : "";
  c.default_region_ = doc["default_region"].is_string() ? doc["default_region"].get<std::string>() : "";
  const nlohmann::json& sources = doc["sources"];
  // Every fact names a known source and carries a value, unit and date, so a
  // figure without provenance cannot slip in.
  std::vector<std::pair<std::string, const nlohmann::json*>> stack = {{"", &doc}};
  while (!stack.empty()) {
    auto [path, node] = stack.back();
    stack.pop_back();
    if (!node->is_object()) continue;
    if (node->contains("value") && node->contains("source")) {
      const auto& v = (*node)["value"];
      const auto& src = (*node)["source"];
      if (!v.is_number() || !src.is_string() || !node->contains("unit") ||
          !node->contains("date")) {
        return InvalidArgumentError(c.origin_ + ": entry " + path +
                                    " needs a numeric value, a unit, a source and a date");
      }
      if (!sources.contains(src.get<std::string>())) {
        return InvalidArgumentError(c.origin_ + ": entry " + path + " names unknown source '" +
                                    src.get<std::string>() + "'");
      }
      c.facts_[path.substr(1)] = *c.Fact(*node);
      continue;
    }
    if (path == "/sources") continue;
    for (auto it = node->begin(); it != node->end(); ++it) stack.emplace_back(path + "/" + it.key(), &it.value());
  }
  for (auto it = doc["instances"].begin(); it != doc["instances"].end(); ++it) {
    c.instance_types_.push_back(it.key());
  }
  return c;
}

Result<PriceCatalog> PriceCatalog::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read the price catalog " + path);
  nlohmann::json doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return InvalidArgumentError(path + ": the price catalog is not valid JSON");
  return FromJson(doc, path);
}

PriceCatalog PriceCatalog::WithOverrides(const definitions::PricingOverrides& overrides) const {
  PriceCatalog c = *this;
  c.overrides_ = overrides;
  return c;
}

std::string PriceCatalog::RegionOf(const definitions::RuntimeConfig& rt) const {
  switch (rt.type) {
    case RuntimeType::kDatabricks:
      return rt.databricks.region.value_or(default_region_);
    case RuntimeType::kEmr:
      return rt.emr.aws.region.empty() ? default_region_ : rt.emr.aws.region;
    case RuntimeType::kEmrServerless:
      return rt.emr_serverless.aws.region.empty() ? default_region_ : rt.emr_serverless.aws.region;
    case RuntimeType::kLocal:
      break;
  }
  return default_region_;
}

std::optional<PriceFact> PriceCatalog::Fact(const nlohmann::json& node) const {
  if (!node.is_object() || !node.contains("value") || !node["value"].is_number()) return std::nullopt;
  PriceFact f;
  f.value = node["value"].get<double>();
  f.unit = node.value("unit", "");
  f.source = node.value("source", "");
  f.date = node.value("date", "");
  return f;
}

std::optional<PriceFact> PriceCatalog::At(std::initializer_list<std::string_view> path) const {
  std::string key;
  key.reserve(64);
  for (std::string_view part : path) {
    if (!key.empty()) key += '/';
    key += part;
  }
  auto it = facts_.find(key);
  if (it == facts_.end()) return std::nullopt;
  return it->second;
}

double PriceCatalog::PriorOr(std::initializer_list<std::string_view> path, double fallback) const {
  auto f = At(path);
  return f ? f->value : fallback;
}

std::optional<InstanceSpec> PriceCatalog::Instance(std::string_view type) const {
  auto vcpu = At({"instances", type, "vcpu"});
  auto mem = At({"instances", type, "memory_gib"});
  if (!vcpu || !mem) return std::nullopt;
  std::string arch = "x86_64";
  const auto& inst = doc_["instances"][std::string(type)];
  if (inst.is_object() && inst.contains("arch") && inst["arch"].is_string()) arch = inst["arch"];
  return InstanceSpec{vcpu->value, mem->value, arch};
}

namespace {
const definitions::InstancePrice* PrivatePrice(const definitions::PricingOverrides& o,
                                               std::string_view region, std::string_view type,
                                               bool spot) {
  const definitions::InstancePrice* any_region = nullptr;
  for (const auto& p : o.instance_prices) {
    if (p.instance_type != type || !(spot ? p.spot : p.on_demand)) continue;
    if (p.region && *p.region == region) return &p;
    if (!p.region) any_region = &p;
  }
  return any_region;
}
}  // namespace

std::optional<PriceFact> PriceCatalog::OnDemand(std::string_view region,
                                                std::string_view type) const {
  if (auto* p = PrivatePrice(overrides_, region, type, false)) {
    return ProjectFact(*p->on_demand, "usd_per_hour", "instance_prices." + std::string(type));
  }
  auto f = At({"ec2_on_demand", region, type});
  if (!f) return std::nullopt;
  return Discounted(*f, overrides_, "ec2");
}

std::optional<PriceFact> PriceCatalog::Spot(std::string_view region, std::string_view type) const {
  // Savings plans and negotiated EC2 discounts do not apply to spot.
  if (auto* p = PrivatePrice(overrides_, region, type, true)) {
    return ProjectFact(*p->spot, "usd_per_hour", "instance_prices." + std::string(type));
  }
  return At({"ec2_spot", region, type});
}

std::optional<int> PriceCatalog::SpotBand(std::string_view region, std::string_view type) const {
  auto f = At({"spot_interruption", region, type});
  if (!f) return std::nullopt;
  return static_cast<int>(f->value);
}

std::optional<PriceFact> PriceCatalog::BandHazard(int band) const {
  return At({"spot_interruption", "band_hazard_per_node_hour", std::to_string(band)});
}

std::optional<PriceFact> PriceCatalog::EmrFee(std::string_view region, std::string_view type) const {
  auto f = At({"emr_fee", region, type});
  if (!f) {
    auto od = At({"ec2_on_demand", region, type});  // the rule is on list price
    auto fraction = At({"emr_fee", "rule", "fraction_of_on_demand"});
    auto cap = At({"emr_fee", "rule", "cap"});
    if (!od || !fraction || !cap) return std::nullopt;
    f = PriceFact{std::min(od->value * fraction->value, cap->value), "usd_per_hour",
                  fraction->source, fraction->date};
  }
  return Discounted(*f, overrides_, "emr");
}

std::optional<PriceFact> PriceCatalog::ServerlessVcpuHour(std::string_view region,
                                                          std::string_view arch) const {
  auto f = At({"emr_serverless", region, arch, "vcpu_hour"});
  if (!f) return std::nullopt;
  return Discounted(*f, overrides_, "emr_serverless");
}

std::optional<PriceFact> PriceCatalog::ServerlessGbHour(std::string_view region,
                                                        std::string_view arch) const {
  auto f = At({"emr_serverless", region, arch, "gb_hour"});
  if (!f) return std::nullopt;
  return Discounted(*f, overrides_, "emr_serverless");
}

std::optional<PriceFact> PriceCatalog::ServerlessStorageGbHour(std::string_view region) const {
  auto f = At({"emr_serverless", region, "storage_gb_hour"});
  if (!f) return std::nullopt;
  return Discounted(*f, overrides_, "emr_serverless");
}

std::optional<PriceFact> PriceCatalog::ServerlessMinimumSeconds() const {
  return At({"emr_serverless", "minimum_s"});
}

std::optional<PriceFact> PriceCatalog::DbuPrice(std::string_view tier, std::string_view sku) const {
  if (auto it = overrides_.dbu_rates.find(std::string(sku)); it != overrides_.dbu_rates.end()) {
    return ProjectFact(it->second, "usd_per_dbu", "dbu_rates." + std::string(sku));
  }
  auto f = At({"databricks", "dbu_price", tier, sku});
  if (!f) return std::nullopt;
  return Discounted(*f, overrides_, "databricks_dbu");
}

std::optional<PriceFact> PriceCatalog::DbuPerNodeHour(std::string_view type) const {
  return At({"databricks", "dbu_per_node_hour", type});
}

std::optional<PriceFact> PriceCatalog::PhotonMultiplier(std::string_view kind) const {
  return At({"databricks", "photon_multiplier", kind});
}

std::optional<PriceFact> PriceCatalog::EbsGbMonth(std::string_view region) const {
  return At({"ebs", region, "gp3_gb_month"});
}

double PriceCatalog::StartupPriorSeconds(RuntimeType type) const {
  return PriorOr({"overheads", definitions::RuntimeTypeName(type), "startup_s"}, 0);
}
double PriceCatalog::IdleTailPriorSeconds(RuntimeType type) const {
  return PriorOr({"overheads", definitions::RuntimeTypeName(type), "idle_tail_s"}, 0);
}
double PriceCatalog::PriorDurationSeconds() const { return PriorOr({"priors", "duration_s"}, 1800); }
double PriceCatalog::PriorLogSigma() const { return PriorOr({"priors", "log_sigma"}, 0.5); }
double PriceCatalog::LocalCoresPrior() const { return PriorOr({"priors", "local_cores"}, 8); }
double PriceCatalog::DefaultShapeVcpu() const {
  return PriorOr({"priors", "default_shape", "vcpu"}, 4);
}
double PriceCatalog::DefaultShapeMemoryGib() const {
  return PriorOr({"priors", "default_shape", "memory_gib"}, 16);
}

std::vector<std::string> CatalogSearchPath(const std::string& explicit_path,
                                           const std::string& env_path,
                                           const std::string& project_root,
                                           const std::string& exe_path) {
  if (!explicit_path.empty()) return {explicit_path};
  if (!env_path.empty()) return {env_path};
  std::vector<std::string> out;
  if (!project_root.empty()) out.push_back((fs::path(project_root) / "price-catalog.json").string());
  if (!exe_path.empty()) {
    out.push_back(
        (fs::path(exe_path).parent_path().parent_path() / "share" / "arbiter" / "price-catalog.json")
            .string());
  }
  std::string built_in = ARBITER_DATA_DIR;
  if (!built_in.empty()) out.push_back((fs::path(built_in) / "price-catalog.json").string());
  return out;
}

Result<PriceCatalog> LocateAndLoadCatalog(const std::string& explicit_path,
                                          const std::string& env_path,
                                          const std::string& project_root,
                                          const std::string& exe_path) {
  std::vector<std::string> paths =
      CatalogSearchPath(explicit_path, env_path, project_root, exe_path);
  std::error_code ec;
  for (const std::string& p : paths) {
    if (fs::exists(p, ec)) return PriceCatalog::Load(p);
  }
  std::string tried;
  for (const std::string& p : paths) tried += "\n  " + p;
  return NotFoundError("no price catalog found; looked for:" + tried +
                       "\n  hint: pass --catalog FILE or set ARBITER_CATALOG");
}

}  // namespace arbiter::cost
