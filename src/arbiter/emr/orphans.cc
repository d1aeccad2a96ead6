#include "arbiter/emr/orphans.h"

#include "arbiter/emr/job_requests.h"

namespace arbiter::emr {

namespace {

using nlohmann::json;

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

}  // namespace

Result<std::vector<OrphanCluster>> FindOrphanClusters(AwsApiClient& api, storage::Storage& storage,
                                                      const std::string& project) {
  std::vector<OrphanCluster> out;
  json in = {{"ClusterStates", json::array({"STARTING", "BOOTSTRAPPING", "RUNNING", "WAITING"})}};
  std::string marker;
  do {
    if (!marker.empty()) in["Marker"] = marker;
    ARBITER_ASSIGN_OR_RETURN(json page, api.Call("ListClusters", in, true));
    for (const json& c : page.value("Clusters", json::array())) {
      if (Str(c, "Name").rfind("arbiter ", 0) != 0) continue;  // not one of ours: no need to look
      ARBITER_ASSIGN_OR_RETURN(json d,
                               api.Call("DescribeCluster", {{"ClusterId", Str(c, "Id")}}, true));
      std::map<std::string, std::string> tags;
      for (const json& t : d.value("Cluster", json::object()).value("Tags", json::array())) {
        tags[Str(t, "Key")] = Str(t, "Value");
      }
      // Another project's runs are not in this storage; never call its clusters orphans.
      if (!tags.count(kRunIdTag) || tags["arbiter:project"] != TagValue(project)) continue;
      OrphanCluster o{Str(c, "Id"), Str(c, "Name"), Str(c.value("Status", json::object()), "State"),
                      tags[kRunIdTag], ""};
      Result<storage::RunRecord> run = storage.GetRun(o.run_id);
      if (!run.ok()) {
        if (run.status().code() != StatusCode::kNotFound) return run.status();
        o.why = "run unknown to this project's storage";
      } else if (storage::IsTerminal(run->status)) {
        o.why = "run ended " + std::string(storage::RunStatusName(run->status));
      } else {
        continue;  // its run is still going
      }
      out.push_back(std::move(o));
    }
    marker = Str(page, "Marker");
  } while (!marker.empty());
  return out;
}

Status TerminateClusters(AwsApiClient& api, const std::vector<std::string>& ids) {
  for (size_t i = 0; i < ids.size(); i += 10) {
    json batch = json::array();
    for (size_t j = i; j < ids.size() && j < i + 10; ++j) batch.push_back(ids[j]);
    ARBITER_RETURN_IF_ERROR(api.Call("TerminateJobFlows", {{"JobFlowIds", batch}}, true).status());
  }
  return Status::Ok();
}

}  // namespace arbiter::emr
