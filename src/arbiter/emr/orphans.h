// Clusters Arbiter created whose run is over: an EMR cluster tagged with this project and
// an Arbiter run id, still active, while the run has ended or is unknown to the project's
// storage (an arbiter that died before it could terminate its cluster, a storage that was
// reset). Found by `arbiter runtimes orphans`, terminated with --terminate.
#pragma once

#include <string>
#include <vector>

#include "arbiter/emr/aws_api_client.h"
#include "arbiter/storage/storage.h"

namespace arbiter::emr {

struct OrphanCluster {
  std::string cluster_id;
  std::string name;
  std::string state;
  std::string run_id;
  std::string why;  // "run ended SUCCESS", "run unknown to this project's storage"
};

Result<std::vector<OrphanCluster>> FindOrphanClusters(AwsApiClient& api, storage::Storage& storage,
                                                      const std::string& project);
// TerminateJobFlows, ten ids per request.
Status TerminateClusters(AwsApiClient& api, const std::vector<std::string>& cluster_ids);

}  // namespace arbiter::emr
