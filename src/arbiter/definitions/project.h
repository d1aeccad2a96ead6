// Project: the validated, in-memory form of arbiter.yaml and the files it
// includes. Produced by LoadProject (project_loader.h); immutable afterwards
// and safe to share across threads. Every entity keeps the SourceLocation it
// came from so later stages (plan, materialize) can point back at the file.
// The schema is documented in docs/project-file.md; keep the two in step.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/common/diagnostics.h"
#include "arbiter/definitions/asset_key.h"
#include "arbiter/definitions/partitions/partitions_def.h"
#include "arbiter/definitions/secret_ref.h"

namespace arbiter::definitions {

// ---- Runtimes -------------------------------------------------------------

enum class RuntimeType { kLocal, kDatabricks, kEmr, kEmrServerless };
std::string_view RuntimeTypeName(RuntimeType t);  // "local", "databricks", "emr", "emr-serverless"

struct LocalRuntimeConfig {
  std::optional<std::string> spark_submit;  // path; default: spark-submit on PATH
  std::optional<std::string> python;        // default: python3
  double cost_per_hour = 0;                 // what a local run is worth, $/hour
};

struct DatabricksRuntimeConfig {
  ConfigString host;                            // https://<workspace>.cloud.databricks.com
  std::optional<ConfigString> token;            // PAT, by reference only
  std::optional<ConfigString> client_id;        // OAuth M2M
  std::optional<ConfigString> client_secret;    // by reference only
  std::string spark_version;                    // e.g. 15.4.x-scala2.12
  std::string staging;                          // dbfs:/... or /Volumes/...
  std::string pricing_tier = "premium";         // standard | premium | enterprise
  std::optional<std::string> region;
  std::optional<std::string> instance_profile_arn;
  std::optional<std::string> existing_cluster_id;
  int spot_bid_price_percent = 100;
  int first_on_demand = 1;                      // the driver is never on spot
};

struct AwsCredentialsConfig {
  std::optional<std::string> profile;
  std::optional<ConfigString> access_key_id;
  std::optional<ConfigString> secret_access_key;
  std::optional<ConfigString> session_token;
};

// Where an AWS runtime lives and how Arbiter reaches it (EMR and EMR Serverless).
struct AwsTarget {
  std::string region;
  std::string staging;                        // s3://bucket/prefix
  std::optional<std::string> log_uri;         // s3://...
  std::optional<ConfigString> endpoint;       // custom endpoint (emulator, VPC endpoint)
  AwsCredentialsConfig credentials;
};

struct EmrRuntimeConfig {
  AwsTarget aws;
  std::string release_label;                  // emr-7.2.0
  std::string service_role = "EMR_DefaultRole";
  std::string instance_profile = "EMR_EC2_DefaultRole";
  std::vector<std::string> subnets;
  std::optional<std::string> existing_cluster_id;
  bool spot_task_nodes = true;
  std::chrono::seconds spot_timeout{600};     // then SWITCH_TO_ON_DEMAND
  std::string allocation_strategy = "price-capacity-optimized";
  std::chrono::seconds idle_timeout{600};
};

struct EmrServerlessRuntimeConfig {
  AwsTarget aws;
  std::string application_id;
  std::string execution_role_arn;
  std::optional<std::string> release_label;
};

struct RuntimeConfig {
  std::string name;
  RuntimeType type = RuntimeType::kLocal;
  int max_concurrency = 0;  // 0 = unlimited
  SourceLocation location;
  LocalRuntimeConfig local;
  DatabricksRuntimeConfig databricks;
  EmrRuntimeConfig emr;
  EmrServerlessRuntimeConfig emr_serverless;
};

// ---- Assets ---------------------------------------------------------------

enum class JobKind { kPySpark, kPython, kCommand };
std::string_view JobKindName(JobKind k);

struct JobSpec {
  JobKind kind = JobKind::kPySpark;
  std::string script;                // path relative to the project dir (pyspark, python)
  std::vector<std::string> command;  // argv (command)
  std::vector<std::string> args;
  std::map<std::string, ConfigString> env;
};

struct WorkerShape {
  std::optional<double> vcpu;
  std::optional<double> memory_gib;
};

struct ComputeSpec {
  int workers = 0;                   // fixed size, or the minimum when autoscaling
  std::optional<int> max_workers;    // set = autoscale between workers and max_workers
  WorkerShape worker;
  WorkerShape driver;
  std::map<std::string, std::string> instance_types;  // runtime type name -> instance type
  std::vector<std::string> instance_families;         // hints, e.g. m5, r5d
  bool spot = true;                  // workers may use spot; drivers never do
  bool photon = false;               // Photon allowed on Databricks
  std::optional<std::chrono::seconds> max_duration;
};

struct PlacementPolicy {
  enum class Kind { kCheapest, kFastest, kFixed, kCheapestWithin };
  Kind kind = Kind::kCheapest;
  std::string runtime;                // kFixed
  std::chrono::seconds deadline{0};   // kCheapestWithin
  double level = 0.9;                 // kCheapestWithin: P(done by the deadline) to reach
  std::string ToString() const;       // "cheapest", "fixed: emr", "cheapest_within: 4h"
};

struct RuntimeOverride {
  std::map<std::string, std::string> spark_conf;
  nlohmann::json cluster = nlohmann::json::object();  // merged into the platform's cluster spec
};

// How the service retries a failed run of an asset (`retries:`). Each attempt
// is its own run, linked to the one before (tags.retry_of).
struct RetryPolicy {
  int max_attempts = 1;  // runs in all, the first included; 1 = never retry
  std::chrono::seconds backoff{60};                   // wait before the 2nd attempt
  std::chrono::seconds max_backoff{std::chrono::minutes(30)};  // doubling stops here
  double jitter = 0.2;            // each wait scaled by a random factor in [1-j, 1+j]
  bool retry_user_errors = false; // also retry failures of the job's own code
  // A run that lost its spot capacity retries on the next-cheapest runtime the
  // asset allows when true; otherwise on the same runtime without spot.
  bool other_runtime = false;
};

struct AssetDef {
  AssetKey key;
  std::string description;
  std::vector<AssetKey> deps;
  std::string partitions;  // name of a partitions definition; empty = unpartitioned
  JobSpec job;
  ComputeSpec compute;
  std::vector<std::string> runtimes;  // names of runtimes it may run on
  PlacementPolicy placement;
  std::map<std::string, RuntimeOverride> overrides;  // by runtime name
  std::optional<std::chrono::seconds> expected_duration;
  std::string code_version;
  std::vector<std::string> owners;
  std::map<std::string, std::string> tags;
  // The service's queue: higher priority starts first; `pool` names a
  // `pools:` entry whose slots the asset's runs share; max_concurrency caps
  // the asset's own live runs (0 = no cap).
  int priority = 0;
  std::string pool;
  int max_concurrency = 0;
  RetryPolicy retries;
  SourceLocation location;
};

// ---- Partitions, pricing, schedules ----------------------------------------

struct PartitionsEntry {
  std::string name;
  std::shared_ptr<const PartitionsDef> def;
  SourceLocation location;
};

struct InstancePrice {
  std::string instance_type;
  std::optional<std::string> region;  // nullopt = every region
  std::optional<double> on_demand;    // $/hour
  std::optional<double> spot;         // $/hour
  SourceLocation location;
};

struct PricingOverrides {
  std::map<std::string, double> discounts;   // e.g. databricks_dbu -> 0.2 (20% off list)
  std::map<std::string, double> dbu_rates;   // SKU -> $/DBU
  std::vector<InstancePrice> instance_prices;
  // Where each discount and rate was set ("discounts.ec2", "dbu_rates.jobs_compute").
  std::map<std::string, SourceLocation> locations;
};

struct ScheduleDef {
  std::string name;
  std::string cron;  // validated five-field expression
  std::string timezone = "UTC";
  std::vector<AssetKey> assets;
  enum class Target { kLatest, kAllMissing } target = Target::kLatest;
  // After the service was down: which missed ticks still run. kLatest the
  // newest one only, kAll every one, kNone none (the next tick runs).
  enum class Catchup { kLatest, kAll, kNone } catchup = Catchup::kLatest;
  bool enabled = true;
  SourceLocation location;
};

// A named pool (`pools:`): assets that opt in share its slots.
struct PoolDef {
  std::string name;
  int slots = 1;
  SourceLocation location;
};

// The project's `service:` section: what `arbiter serve` does by default.
struct ServiceSettings {
  int max_concurrent_runs = 16;  // live runs the service follows at once, every runtime
  SourceLocation location;
};

// The project's `placement:` section: how automatic placement learns.
struct PlacementSettings {
  double explore_budget = 0.05;  // share of spend exploration's extra may take
  uint64_t seed = 0;             // posterior draws (a pure function of it)
  SourceLocation location;
};

struct Project {
  std::string name;
  std::string root;          // absolute path of the project directory
  std::string storage_url;   // empty = default (.arbiter/arbiter.db)
  std::vector<std::string> files;  // arbiter.yaml and every included file, relative to root
  std::map<AssetKey, AssetDef> assets;
  std::map<std::string, PartitionsEntry> partitions;
  std::map<std::string, RuntimeConfig> runtimes;
  PricingOverrides pricing;
  PlacementSettings placement;
  std::map<std::string, ScheduleDef> schedules;
  std::map<std::string, PoolDef> pools;
  ServiceSettings service;

  const AssetDef* FindAsset(std::string_view key) const;
  // The asset's partitions definition, or nullptr if it is unpartitioned.
  const PartitionsDef* PartitionsOf(const AssetDef& asset) const;
};

}  // namespace arbiter::definitions
