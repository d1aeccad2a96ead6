// Keeps each asset's stored partition status (range-compressed sets of
// indices) in step with its runs, so `arbiter partitions` never scans events.
// Indices come from the asset's partitions definition; the fingerprint is the
// definition's description, so after a change (a new start date, a reordered
// key list) the sets are rebuilt from materializations and runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "arbiter/definitions/project.h"
#include "arbiter/storage/storage.h"

namespace arbiter::runs {

class PartitionStatusKeeper {
 public:
  PartitionStatusKeeper(storage::Storage* storage, const definitions::Project* project)
      : storage_(storage), project_(project) {}

  static std::string Fingerprint(const definitions::PartitionsDef& def);

  Status MarkInProgress(const definitions::AssetDef& asset, const std::vector<std::string>& keys);
  // SUCCESS: materialized; FAILURE: failed; CANCELED: back to what it was
  // before (materialized if it ever was, else missing).
  Status MarkEnded(const definitions::AssetDef& asset, const std::string& key,
                   storage::RunStatus status);
  // The stored status, rebuilt first when the definition changed.
  Result<storage::PartitionStatus> Get(const definitions::AssetDef& asset);
  // Recomputes the sets from materializations and the newest run of each partition.
  Result<storage::PartitionStatus> Rebuild(const definitions::AssetDef& asset);

 private:
  storage::Storage* storage_;
  const definitions::Project* project_;
};

}  // namespace arbiter::runs
