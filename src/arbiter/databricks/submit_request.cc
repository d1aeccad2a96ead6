#include "arbiter/databricks/submit_request.h"

#include <cctype>

#include "arbiter/pipes/params.h"

namespace arbiter::databricks {

std::string TagValue(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 256)) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
              std::string_view(" +-=._:/@").find(c) != std::string_view::npos;
    out += ok ? c : '_';
  }
  return out;
}

nlohmann::json BuildSubmitRequest(const SubmitSpec& spec) {
  const definitions::ComputeSpec& compute = spec.asset->compute;
  const definitions::DatabricksRuntimeConfig& config = *spec.config;
  nlohmann::json tags = {{"arbiter_run_id", spec.run_id},
                         {"arbiter_asset", TagValue(spec.asset_key)}};
  if (spec.partition_key) tags["arbiter_partition"] = TagValue(*spec.partition_key);

  nlohmann::json parameters = spec.asset->job.args;
  nlohmann::json task = {{"task_key", kTaskKey},
                         {"spark_python_task", {{"python_file", spec.python_file}}}};
  const definitions::RuntimeOverride* override_for = nullptr;
  if (auto it = spec.asset->overrides.find(spec.runtime_name); it != spec.asset->overrides.end()) {
    override_for = &it->second;
  }

  if (config.existing_cluster_id) {
    // Environment variables cannot be set on a running cluster: the bootstrap travels as
    // task parameters, which the pipes clients read from argv.
    for (const auto& [name, value] : spec.bootstrap) {
      // Clients old enough to need this variable never read argv: no flag for it.
      if (name == pipes::kLegacyIsPipedEnvVar) continue;
      std::string flag = "--";
      for (char c : name) flag += c == '_' ? '-' : static_cast<char>(std::tolower(c));
      parameters.push_back(flag);
      parameters.push_back(value);
    }
    task["existing_cluster_id"] = *config.existing_cluster_id;
  } else {
    nlohmann::json cluster = {{"spark_version", config.spark_version},
                              {"node_type_id", spec.instances.worker.at(0)},
                              {"driver_node_type_id", spec.instances.driver.at(0)}};
    if (compute.max_workers) {
      cluster["autoscale"] = {{"min_workers", compute.workers},
                              {"max_workers", *compute.max_workers}};
    } else {
      cluster["num_workers"] = compute.workers;
    }
    nlohmann::json aws = {
        {"availability", compute.spot ? "SPOT_WITH_FALLBACK" : "ON_DEMAND"},
        {"first_on_demand", std::max(1, config.first_on_demand)},
        {"spot_bid_price_percent", config.spot_bid_price_percent},
        {"zone_id", "auto"}};
    if (config.instance_profile_arn) aws["instance_profile_arn"] = *config.instance_profile_arn;
    cluster["aws_attributes"] = aws;
    cluster["runtime_engine"] = compute.photon ? "PHOTON" : "STANDARD";
    nlohmann::json conf = {{"spark.databricks.delta.vacuum.parallelDelete.enabled", "true"}};
    if (override_for) {
      for (const auto& [k, v] : override_for->spark_conf) conf[k] = v;
    }
    cluster["spark_conf"] = conf;
    nlohmann::json env = nlohmann::json::object();
    for (const auto& [k, v] : spec.job_env) env[k] = v;
    // Sibling modules of the script (and the pipes client) live in the code folder.
    std::string pythonpath = spec.code_dir;
    if (auto it = spec.job_env.find("PYTHONPATH"); it != spec.job_env.end() && !it->second.empty()) {
      pythonpath += ":" + it->second;
    }
    env["PYTHONPATH"] = pythonpath;
    env["ARBITER_RUN_ID"] = spec.run_id;
    env["ARBITER_ASSET"] = spec.asset_key;
    if (spec.partition_key) env["ARBITER_PARTITION"] = *spec.partition_key;
    for (const auto& [k, v] : spec.bootstrap) env[k] = v;
    cluster["spark_env_vars"] = env;
    cluster["custom_tags"] = tags;
    if (!spec.cluster_log_conf.is_null()) cluster["cluster_log_conf"] = spec.cluster_log_conf;
    // The asset's own cluster settings win (autotermination, init scripts, policies, ...).
    if (override_for && override_for->cluster.is_object()) cluster.merge_patch(override_for->cluster);
    task["new_cluster"] = cluster;
  }
  task["spark_python_task"]["parameters"] = parameters;

  std::string name = "arbiter " + spec.asset_key;
  if (spec.partition_key) name += " [" + *spec.partition_key + "]";
  nlohmann::json body = {{"run_name", name.substr(0, 4096)},
                         {"idempotency_token", spec.run_id},
                         {"tags", tags},
                         {"tasks", nlohmann::json::array({task})}};
  if (compute.max_duration) body["timeout_seconds"] = compute.max_duration->count();
  return body;
}

}  // namespace arbiter::databricks
