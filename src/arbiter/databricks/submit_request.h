// The runs/submit body for one Arbiter run: a one-time run with one spark_python_task on a
// new cluster shaped from the asset's compute spec (or on an existing cluster), carrying the
// pipes bootstrap, cost-attribution tags and log delivery into the staging area. A pure
// function, so the body is compared field by field against fixtures written from the API docs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "arbiter/definitions/project.h"
#include "arbiter/runs/instance_chooser.h"

namespace arbiter::databricks {

struct SubmitSpec {
  std::string run_id;  // also the idempotency token
  std::string asset_key;
  std::optional<std::string> partition_key;
  std::string runtime_name;
  const definitions::DatabricksRuntimeConfig* config = nullptr;
  const definitions::AssetDef* asset = nullptr;
  runs::InstanceChoice instances;
  std::string python_file;  // dbfs:/<staging>/code/<hash>/<script>.py
  std::string code_dir;     // the same folder as the cluster sees it (/dbfs/..., /Volumes/...)
  nlohmann::json cluster_log_conf;
  std::map<std::string, std::string> job_env;    // the job's env, references resolved
  std::map<std::string, std::string> bootstrap;  // DAGSTER_PIPES_CONTEXT / _MESSAGES, encoded
};

inline constexpr const char* kTaskKey = "main";

nlohmann::json BuildSubmitRequest(const SubmitSpec& spec);

// A value as AWS accepts it in a tag (letters, digits, space and + - = . _ : / @; at most
// 256 characters); anything else becomes '_'.
std::string TagValue(std::string_view value);

}  // namespace arbiter::databricks
