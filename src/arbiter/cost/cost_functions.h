// Cost functions per runtime type: what a cluster shape costs for a billed
// duration (prediction), and what a reported usage record cost (the ledger).
// Pure functions of the catalog; a missing price makes the estimate unknown
// and says which price is missing, never a silent zero.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/cost/catalog.h"
#include "arbiter/runs/usage.h"

namespace arbiter::cost {

// Nodes of one kind in a cluster (EMR, Databricks classic).
struct NodeGroup {
  std::string role;           // driver | worker (Databricks); primary | core (EMR)
  std::string instance_type;  // e.g. r5.2xlarge
  int count = 0;
  bool spot = false;
};

// What a run would use. Classic clusters list node groups; EMR Serverless
// uses workers of a size (the driver counts as one more worker).
struct ClusterShape {
  definitions::RuntimeType type = definitions::RuntimeType::kLocal;
  std::vector<NodeGroup> nodes;
  int serverless_workers = 0;  // including the driver
  double worker_vcpu = 0;
  double worker_memory_gib = 0;
  std::string arch = "x86_64";
  bool photon = false;
  // Total cores the job runs on (c in the runtime model).
  double cores = 0;
  nlohmann::json ToJson() const;
  std::string Describe() const;  // "1 × m5.xlarge + 8 × r5.2xlarge (spot)"
};

// One priced item of an estimate, for the candidate table and the ledger.
struct CostLine {
  std::string item;  // "8 × r5.2xlarge spot EC2"
  double quantity = 0;
  std::string unit;  // node-hours, vcpu-hours, ...
  double unit_price = 0;
  double usd = 0;
  std::string source;
};

struct CostEstimate {
  std::optional<double> usd;         // nullopt: unknown (see `unknown`)
  std::vector<std::string> unknown;  // every price that was missing
  std::vector<std::string> notes;    // assumptions, e.g. spot priced at on-demand
  std::vector<CostLine> lines;
  nlohmann::json ToJson() const;
};

// Cost of running `shape` on `runtime` for `billed_seconds` (start-up and
// idle tail included by the caller). EMR = Σ nodes × hours × (EC2 price for
// the market + EMR fee); Databricks classic = Σ nodes × hours × (EC2 + DBU
// rating × Photon factor × $/DBU); EMR Serverless = (vCPU × $/vCPU-h + GiB ×
// $/GB-h) × workers × hours with the one-minute minimum; local = hours ×
// cost_per_hour. Spot nodes are priced at spot (no interruption risk here).
// Without `itemize` only the total (and what is unknown) is kept: no lines.
CostEstimate PriceShape(const PriceCatalog& catalog, const definitions::RuntimeConfig& runtime,
                        const ClusterShape& shape, double billed_seconds, bool itemize = true);

// The same shape entirely on on-demand (the fallback when spot is lost).
ClusterShape OnDemandOnly(ClusterShape shape);

// Cost of a finished run from the usage its runtime reported. `runtime` may
// be null (a runtime removed from the project since); then the local rate and
// the Databricks tier take their defaults. `wall_seconds` prices local runs
// that report no usage.
CostEstimate PriceUsage(const PriceCatalog& catalog, const definitions::RuntimeConfig* runtime,
                        const runs::ResourceUsage& usage);
CostEstimate PriceLocalRun(const definitions::RuntimeConfig& runtime, double wall_seconds,
                           bool itemize = true);

}  // namespace arbiter::cost
