#include "arbiter/runs/run_context.h"

#include <date/date.h>

#include "arbiter/definitions/partitions/time_window_partitions.h"
#include "arbiter/pipes/context.h"

namespace arbiter::runs {
namespace {

std::string IsoUtc(TimePoint t) { return date::format("%FT%T+00:00", t); }

}  // namespace

Result<pipes::OrderedJson> BuildRunContext(const RunRequest& request,
                                           std::string_view runtime_type) {
  const storage::RunRecord& run = request.run;
  pipes::ContextData data;
  pipes::AssetInScope asset;
  asset.key = request.asset->key.parts();
  if (!request.asset->code_version.empty()) asset.code_version = request.asset->code_version;
  data.assets.push_back(std::move(asset));
  data.partition_key = run.partition_key;
  if (run.partition_key && !request.asset->partitions.empty()) {
    auto it = request.project->partitions.find(request.asset->partitions);
    if (it != request.project->partitions.end()) {
      if (auto* tw = dynamic_cast<const definitions::TimeWindowPartitions*>(it->second.def.get())) {
        if (std::optional<int64_t> index = tw->IndexOf(*run.partition_key)) {
          definitions::TimeWindow w = tw->WindowAt(*index);
          data.partition_time_window = pipes::KeyRange{IsoUtc(w.start), IsoUtc(w.end)};
        }
      }
    }
  }
  data.run_id = run.run_id;
  data.job_name = run.asset_key;
  data.retry_number = run.attempt;
  data.extras = {{"arbiter/runtime", run.runtime},
                 {"arbiter/runtime_type", std::string(runtime_type)},
                 {"arbiter/project", request.project->name}};
  return pipes::BuildContextPayload(data);
}

}  // namespace arbiter::runs
