#include "arbiter/emr/job_requests.h"

#include <algorithm>
#include <cmath>

#include "arbiter/common/strings.h"

namespace arbiter::emr {

namespace {

using nlohmann::json;

const definitions::RuntimeOverride* OverrideFor(const runs::RunRequest& r) {
  auto it = r.asset->overrides.find(r.runtime->name);
  return it == r.asset->overrides.end() ? nullptr : &it->second;
}

json Tags(const runs::RunRequest& r) {
  json tags = json::array();
  auto add = [&](const std::string& k, std::string_view v) {
    tags.push_back({{"Key", k}, {"Value", TagValue(v)}});
  };
  add(kRunIdTag, r.run.run_id);
  add("arbiter:asset", r.run.asset_key);
  if (r.run.partition_key) add("arbiter:partition", *r.run.partition_key);
  add("arbiter:project", r.project->name);
  add("arbiter:runtime", r.runtime->name);
  for (const auto& [k, v] : r.asset->tags) {
    if (tags.size() < 45) add(k, v);  // EMR allows 50 tags
  }
  return tags;
}

json TypeConfigs(const std::vector<std::string>& types) {
  json configs = json::array();
  // Up to five types per fleet: enough to diversify, within what every release accepts.
  for (size_t i = 0; i < types.size() && i < 5; ++i) {
    configs.push_back({{"InstanceType", types[i]}, {"WeightedCapacity", 1}});
  }
  return configs;
}

}  // namespace

std::string RunResourceName(const storage::RunRecord& run) {
  std::string name = "arbiter " + run.run_id + " " + run.asset_key;
  if (run.partition_key) name += " " + *run.partition_key;
  // Name: printable ASCII without control characters.
  for (char& c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '_';
  }
  return name.substr(0, 256);
}

std::string TagValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) ||
              std::string_view(" _.:/=+-@").find(c) != std::string_view::npos;
    out.push_back(ok ? c : '_');
  }
  return out.substr(0, 256);
}

FleetSizes SplitWorkers(const definitions::ComputeSpec& compute,
                        const definitions::EmrRuntimeConfig& emr) {
  FleetSizes s;
  const int workers = std::max(0, compute.workers);
  if (workers == 0) return s;
  if (!compute.spot || !emr.spot_task_nodes) {
    s.core = workers;
    return s;
  }
  // A quarter of the workers (at least one) stay on on-demand core nodes: they hold the
  // application master and HDFS, so losing spot capacity never loses the driver.
  s.core = std::max(1, (workers + 3) / 4);
  s.task = workers - s.core;
  return s;
}

std::vector<std::string> StepArgs(const JobPlan& plan, bool env_as_conf) {
  const runs::RunRequest& r = *plan.request;
  const definitions::JobSpec& job = r.asset->job;
  std::vector<std::string> args;
  if (job.kind == definitions::JobKind::kCommand) {
    args = job.command;
  } else {
    args = {"spark-submit", "--deploy-mode", "cluster"};
    if (!plan.code.py_files.empty()) {
      args.push_back("--py-files");
      args.push_back(Join(plan.code.py_files, ","));
    }
    auto conf = [&](const std::string& k, const std::string& v) {
      args.push_back("--conf");
      args.push_back(k + "=" + v);
    };
    if (const auto* o = OverrideFor(r)) {
      for (const auto& [k, v] : o->spark_conf) conf(k, v);
    }
    if (env_as_conf) {
      for (const auto& [k, v] : plan.env) {
        conf("spark.yarn.appMasterEnv." + k, v);
        conf("spark.executorEnv." + k, v);
      }
    }
    args.push_back(plan.code.entry_point);
  }
  args.insert(args.end(), job.args.begin(), job.args.end());
  return args;
}

namespace {

json SparkStep(const JobPlan& plan, bool existing_cluster) {
  return {{"Name", RunResourceName(plan.request->run)},
          // A transient cluster exists for this step only; an existing one is shared.
          {"ActionOnFailure", existing_cluster ? "CONTINUE" : "TERMINATE_CLUSTER"},
          {"HadoopJarStep",
           {{"Jar", "command-runner.jar"}, {"Args", StepArgs(plan, existing_cluster)}}}};
}

}  // namespace

json BuildRunJobFlow(const JobPlan& plan) {
  const runs::RunRequest& r = *plan.request;
  const definitions::EmrRuntimeConfig& emr = r.runtime->emr;
  const definitions::ComputeSpec& compute = r.asset->compute;
  FleetSizes sizes = SplitWorkers(compute, emr);

  json fleets = json::array();
  fleets.push_back({{"Name", "primary"},
                    {"InstanceFleetType", "MASTER"},
                    {"TargetOnDemandCapacity", 1},
                    {"InstanceTypeConfigs", TypeConfigs(plan.instances.driver)}});
  if (sizes.core > 0) {
    fleets.push_back({{"Name", "core"},
                      {"InstanceFleetType", "CORE"},
                      {"TargetOnDemandCapacity", sizes.core},
                      {"InstanceTypeConfigs", TypeConfigs(plan.instances.worker)},
                      {"LaunchSpecifications",
                       {{"OnDemandSpecification", {{"AllocationStrategy", "lowest-price"}}}}}});
  }
  if (sizes.task > 0) {
    int timeout_min = static_cast<int>(std::clamp<int64_t>(emr.spot_timeout.count() / 60, 5, 1440));
    fleets.push_back({{"Name", "task"},
                      {"InstanceFleetType", "TASK"},
                      {"TargetSpotCapacity", sizes.task},
                      {"InstanceTypeConfigs", TypeConfigs(plan.instances.worker)},
                      {"LaunchSpecifications",
                       {{"SpotSpecification",
                         {{"TimeoutDurationMinutes", timeout_min},
                          {"TimeoutAction", "SWITCH_TO_ON_DEMAND"},
                          {"AllocationStrategy", emr.allocation_strategy}}},
                        {"OnDemandSpecification", {{"AllocationStrategy", "lowest-price"}}}}}});
  }
  json instances = {{"InstanceFleets", fleets},
                    {"KeepJobFlowAliveWhenNoSteps", false},
                    {"TerminationProtected", false}};
  if (!emr.subnets.empty()) instances["Ec2SubnetIds"] = emr.subnets;

  json spark_defaults = {{"spark.yarn.maxAppAttempts", "1"},
                         {"spark.yarn.am.nodeLabelExpression", "CORE"}};
  if (const auto* o = OverrideFor(r)) {
    for (const auto& [k, v] : o->spark_conf) spark_defaults[k] = v;
  }
  for (const auto& [k, v] : plan.env) {
    spark_defaults["spark.yarn.appMasterEnv." + k] = v;
    spark_defaults["spark.executorEnv." + k] = v;
  }
  json configurations = json::array(
      {{{"Classification", "spark"}, {"Properties", {{"maximizeResourceAllocation", "true"}}}},
       {{"Classification", "spark-defaults"}, {"Properties", spark_defaults}},
       // The application master stays on core (on-demand) nodes: a spot loss never takes
       // the driver with it.
       {{"Classification", "yarn-site"},
        {"Properties",
         {{"yarn.node-labels.enabled", "true"},
          {"yarn.node-labels.am.default-node-label-expression", "CORE"}}}}});

  json body = {{"Name", RunResourceName(r.run)},
               {"ReleaseLabel", emr.release_label},
               {"Applications", json::array({{{"Name", "Spark"}}})},
               {"Configurations", configurations},
               {"Instances", instances},
               {"Steps", json::array({SparkStep(plan, false)})},
               {"JobFlowRole", emr.instance_profile},
               {"ServiceRole", emr.service_role},
               {"VisibleToAllUsers", true},
               {"Tags", Tags(r)},
               {"AutoTerminationPolicy", {{"IdleTimeout", emr.idle_timeout.count()}}}};
  if (emr.aws.log_uri) body["LogUri"] = *emr.aws.log_uri;
  if (compute.max_workers && *compute.max_workers > compute.workers) {
    body["ManagedScalingPolicy"] = {{"ComputeLimits",
                                     {{"UnitType", "InstanceFleetUnits"},
                                      {"MinimumCapacityUnits", std::max(1, compute.workers)},
                                      {"MaximumCapacityUnits", *compute.max_workers},
                                      {"MaximumOnDemandCapacityUnits", std::max(1, sizes.core)},
                                      {"MaximumCoreCapacityUnits", std::max(1, sizes.core)}}}};
  }
  if (const auto* o = OverrideFor(r); o && o->cluster.is_object() && !o->cluster.empty()) {
    body.merge_patch(o->cluster);
  }
  return body;
}

json BuildAddJobFlowSteps(const JobPlan& plan, const std::string& cluster_id) {
  return {{"JobFlowId", cluster_id}, {"Steps", json::array({SparkStep(plan, true)})}};
}

WorkerSize ServerlessWorker(const definitions::WorkerShape& shape, WorkerSize fallback) {
  struct Allowed {
    int vcpu, min_gb, max_gb;
  };
  static const Allowed kSizes[] = {{1, 2, 8}, {2, 4, 16}, {4, 8, 30}, {8, 16, 60}, {16, 32, 120}};
  double want_cpu = shape.vcpu.value_or(fallback.vcpu);
  double want_mem = shape.memory_gib.value_or(fallback.memory_gb);
  const Allowed* pick = &kSizes[4];
  for (const Allowed& a : kSizes) {
    if (a.vcpu >= want_cpu && want_mem <= a.max_gb) {
      pick = &a;
      break;
    }
  }
  int mem = static_cast<int>(std::ceil(want_mem));
  return {pick->vcpu, std::clamp(mem, pick->min_gb, pick->max_gb)};
}

std::string SparkSubmitParameters(const JobPlan& plan) {
  const runs::RunRequest& r = *plan.request;
  const definitions::ComputeSpec& c = r.asset->compute;
  WorkerSize driver = ServerlessWorker(c.driver, {4, 16});
  WorkerSize exec = ServerlessWorker(c.worker, {4, 16});
  std::vector<std::pair<std::string, std::string>> conf;
  // Spark adds about 10% memory overhead; asking for the rest keeps each container within
  // the worker size chosen above.
  auto heap = [](int gb) { return std::to_string(std::max(1, static_cast<int>(gb / 1.1))) + "g"; };
  conf.emplace_back("spark.driver.cores", std::to_string(driver.vcpu));
  conf.emplace_back("spark.driver.memory", heap(driver.memory_gb));
  conf.emplace_back("spark.executor.cores", std::to_string(exec.vcpu));
  conf.emplace_back("spark.executor.memory", heap(exec.memory_gb));
  if (c.max_workers && *c.max_workers > c.workers) {
    conf.emplace_back("spark.dynamicAllocation.enabled", "true");
    conf.emplace_back("spark.dynamicAllocation.minExecutors",
                      std::to_string(std::max(1, c.workers)));
    conf.emplace_back("spark.dynamicAllocation.maxExecutors", std::to_string(*c.max_workers));
  } else {
    conf.emplace_back("spark.dynamicAllocation.enabled", "false");
    conf.emplace_back("spark.executor.instances", std::to_string(std::max(1, c.workers)));
  }
  if (!plan.code.py_files.empty()) {
    conf.emplace_back("spark.submit.pyFiles", Join(plan.code.py_files, ","));
  }
  if (const auto* o = OverrideFor(r)) {
    for (const auto& [k, v] : o->spark_conf) conf.emplace_back(k, v);
  }
  for (const auto& [k, v] : plan.env) {
    conf.emplace_back("spark.emr-serverless.driverEnv." + k, v);
    conf.emplace_back("spark.executorEnv." + k, v);
  }
  std::string out;
  for (const auto& [k, v] : conf) {
    if (!out.empty()) out += ' ';
    bool plain = v.find_first_of(" \t'\"\\") == std::string::npos;
    out += "--conf " + k + "=" + (plain ? v : "'" + v + "'");
  }
  return out;
}

json BuildStartJobRun(const JobPlan& plan) {
  const runs::RunRequest& r = *plan.request;
  const definitions::EmrServerlessRuntimeConfig& s = r.runtime->emr_serverless;
  json tags = json::object();
  for (const json& t : Tags(r)) tags[t["Key"].get<std::string>()] = t["Value"];
  json body = {{"clientToken", r.run.run_id},  // a retried start returns the same job run
               {"executionRoleArn", s.execution_role_arn},
               {"name", RunResourceName(r.run)},
               {"jobDriver",
                {{"sparkSubmit",
                  {{"entryPoint", plan.code.entry_point},
                   {"entryPointArguments", r.asset->job.args},
                   {"sparkSubmitParameters", SparkSubmitParameters(plan)}}}}},
               {"tags", tags}};
  if (s.aws.log_uri) {
    body["configurationOverrides"] = {
        {"monitoringConfiguration", {{"s3MonitoringConfiguration", {{"logUri", *s.aws.log_uri}}}}}};
  }
  if (r.asset->compute.max_duration) {
    body["executionTimeoutMinutes"] =
        std::max<int64_t>(1, (r.asset->compute.max_duration->count() + 59) / 60);
  }
  return body;
}

}  // namespace arbiter::emr
