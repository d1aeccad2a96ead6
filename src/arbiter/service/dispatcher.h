// Which queued runs start now. Pure: given the queue, the live runs and the
// project's limits, it returns the runs to start (highest priority first,
// then oldest), the runs to cancel (an upstream run they wait for failed) and
// when to look again (a retry's backoff ends). Limits, all counted over live
// runs in storage: the service's max_concurrent_runs, each runtime's
// max_concurrency, each asset's max_concurrency and each pool's slots.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/definitions/project.h"
#include "arbiter/storage/records.h"

namespace arbiter::service {

// Tag of a queued run listing the runs (ids) that must succeed before it
// starts: the upstream partitions of a multi-asset tick or backfill.
inline constexpr const char* kAfterTag = "after";

// Runs queued in one step (a tick, a batch of a backfill): (asset, partition) -> run id.
using QueuedRuns = std::map<std::pair<std::string, std::string>, std::string>;

// Sets kAfterTag on `run` (of `asset`): the runs in `queued` of its upstream
// assets for the same partition.
void LinkToUpstream(const definitions::AssetDef& asset, const QueuedRuns& queued,
                    storage::RunRecord& run);

struct QueueSnapshot {
  std::vector<storage::RunRecord> queued;  // QUEUED runs waiting for the service
  std::vector<storage::RunRecord> live;    // STARTING, RUNNING, CANCELING (any arbiter's)
  std::set<std::string> paused_backfills;  // their queued runs wait
  // The status of a run named in an `after` tag (nullopt: no such run).
  std::function<std::optional<storage::RunStatus>(const std::string& run_id)> status_of;
};

struct Dispatch {
  std::vector<storage::RunRecord> start;  // in start order
  std::vector<std::pair<storage::RunRecord, std::string>> cancel;  // and why
  // Queued runs left waiting, with the first limit that holds each back.
  std::map<std::string, std::string> waiting;  // run id -> why
  std::optional<TimePoint> wake_at;  // the earliest not_before still in the future
};

Dispatch PlanDispatch(const definitions::Project& project, const QueueSnapshot& queue,
                      TimePoint now, int max_concurrent_runs);

}  // namespace arbiter::service
