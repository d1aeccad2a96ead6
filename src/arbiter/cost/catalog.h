// The price catalog: every price and rating the cost functions use, each with
// its unit, source and date (data/price-catalog.json), plus the project's
// `pricing:` overrides applied on top. A figure the catalog does not hold is
// unknown (nullopt), never zero. Immutable after construction; safe to share.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/common/status.h"
#include "arbiter/definitions/project.h"

namespace arbiter::cost {

// One figure and where it came from.
struct PriceFact {
  double value = 0;
  std::string unit;    // usd_per_hour, usd_per_dbu, factor, seconds, ...
  std::string source;  // a key of the catalog's `sources`, or "project pricing: ..."
  std::string date;    // YYYY-MM-DD the figure was read
};

struct InstanceSpec {
  double vcpu = 0;
  double memory_gib = 0;
  std::string arch;  // x86_64 | arm64
};

class PriceCatalog {
 public:
  // Parses a catalog document; `origin` (a path) names it in errors.
  static Result<PriceCatalog> FromJson(const nlohmann::json& doc, std::string origin);
  static Result<PriceCatalog> Load(const std::string& path);

  // The same catalog with a project's overrides applied: private instance
  // prices replace list prices, custom $/DBU replace list $/DBU, discounts
  // reduce list prices (never a price the project set itself).
  PriceCatalog WithOverrides(const definitions::PricingOverrides& overrides) const;

  const std::string& origin() const { return origin_; }
  const std::string& version() const { return version_; }
  const std::string& default_region() const { return default_region_; }
  // The region to price a runtime in: its own, else the catalog default.
  std::string RegionOf(const definitions::RuntimeConfig& rt) const;

  std::optional<InstanceSpec> Instance(std::string_view type) const;
  // Every instance type with a spec, sorted.
  const std::vector<std::string>& InstanceTypes() const { return instance_types_; }

  std::optional<PriceFact> OnDemand(std::string_view region, std::string_view type) const;
  std::optional<PriceFact> Spot(std::string_view region, std::string_view type) const;
  // The Spot Advisor interruption band of a type (0..4) and its hazard prior
  // (interruptions per node-hour).
  std::optional<int> SpotBand(std::string_view region, std::string_view type) const;
  std::optional<PriceFact> BandHazard(int band) const;

  // EMR fee per instance-hour: the listed fee, else the catalog's rule
  // (a fraction of on-demand, capped); the same on spot.
  std::optional<PriceFact> EmrFee(std::string_view region, std::string_view type) const;

  std::optional<PriceFact> ServerlessVcpuHour(std::string_view region, std::string_view arch) const;
  std::optional<PriceFact> ServerlessGbHour(std::string_view region, std::string_view arch) const;
  std::optional<PriceFact> ServerlessStorageGbHour(std::string_view region) const;
  std::optional<PriceFact> ServerlessMinimumSeconds() const;

  // $/DBU of a SKU (jobs_compute, jobs_compute_photon, ...) in a pricing tier.
  std::optional<PriceFact> DbuPrice(std::string_view tier, std::string_view sku) const;
  std::optional<PriceFact> DbuPerNodeHour(std::string_view type) const;
  std::optional<PriceFact> PhotonMultiplier(std::string_view kind) const;  // jobs | all_purpose

  std::optional<PriceFact> EbsGbMonth(std::string_view region) const;

  // Start-up overhead and idle tail priors of a runtime type, in seconds.
  double StartupPriorSeconds(definitions::RuntimeType type) const;
  double IdleTailPriorSeconds(definitions::RuntimeType type) const;
  // Priors for prediction without history.
  double PriorDurationSeconds() const;
  double PriorLogSigma() const;
  double LocalCoresPrior() const;
  double DefaultShapeVcpu() const;
  double DefaultShapeMemoryGib() const;

  const nlohmann::json& sources() const { return doc_["sources"]; }

 private:
  std::optional<PriceFact> Fact(const nlohmann::json& node) const;
  std::optional<PriceFact> At(std::initializer_list<std::string_view> path) const;
  double PriorOr(std::initializer_list<std::string_view> path, double fallback) const;

  nlohmann::json doc_;
  // Every fact by its path ("ec2_on_demand/us-east-1/m5.xlarge"), for fast lookups.
  std::unordered_map<std::string, PriceFact> facts_;
  std::string origin_;
  std::string version_;
  std::string default_region_;
  std::vector<std::string> instance_types_;
  // Project overrides.
  definitions::PricingOverrides overrides_;
};

// Where the catalog is found: `explicit_path` (--catalog) if given; else
// $ARBITER_CATALOG; else <project>/price-catalog.json when it exists; else
// the catalog installed next to the binary (<exe dir>/../share/arbiter/) or,
// in a build tree, the repository's data/price-catalog.json.
std::vector<std::string> CatalogSearchPath(const std::string& explicit_path,
                                           const std::string& env_path,
                                           const std::string& project_root,
                                           const std::string& exe_path);
// The first path of CatalogSearchPath that exists, loaded.
Result<PriceCatalog> LocateAndLoadCatalog(const std::string& explicit_path,
                                          const std::string& env_path,
                                          const std::string& project_root,
                                          const std::string& exe_path);

}  // namespace arbiter::cost
