// What a run consumed on its platform, as the runtime reports it when the run
// ends. The cost ledger prices it with the price catalog; this type carries no
// prices, only quantities the platforms state (node types and counts, markets,
// durations, billed units).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/common/status.h"

namespace arbiter::runs {

// Nodes of one kind that ran for the same time.
struct NodeGroupUsage {
  std::string role;           // driver, worker (Databricks); primary, core, task (EMR); local
  std::string instance_type;  // e.g. r5d.4xlarge; empty for local
  int count = 0;
  std::string market = "ON_DEMAND";  // ON_DEMAND | SPOT
  double hours = 0;                  // billed hours per node (from start-up to release)
  bool operator==(const NodeGroupUsage&) const = default;
};

struct ResourceUsage {
  std::string runtime_type;  // local | databricks | emr | emr-serverless
  std::string region;        // empty when unknown
  std::vector<NodeGroupUsage> nodes;
  bool photon = false;
  // Platform phases in seconds, when the platform reports them (Databricks
  // setup/execution/cleanup; EMR cluster ready and end; Serverless run time).
  std::optional<double> setup_s;
  std::optional<double> execution_s;
  std::optional<double> cleanup_s;
  // Units the platform itself billed (EMR Serverless billedResourceUtilization,
  // EMR NormalizedInstanceHours); preferred over node-hours when present.
  std::optional<double> vcpu_hours;
  std::optional<double> memory_gb_hours;
  std::optional<double> storage_gb_hours;
  std::optional<double> normalized_instance_hours;
  // Spot capacity was lost during the run (for the interruption model).
  bool spot_interrupted = false;
  // Anything else the platform said that is worth keeping (cluster id, ...).
  nlohmann::json details = nlohmann::json::object();
  bool operator==(const ResourceUsage&) const = default;
};

nlohmann::json UsageToJson(const ResourceUsage& u);
// Rejects a document that is not a usage record (missing runtime_type, bad types).
Result<ResourceUsage> UsageFromJson(const nlohmann::json& j);

}  // namespace arbiter::runs
