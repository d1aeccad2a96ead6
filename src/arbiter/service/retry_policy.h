// Whether a failed run is retried, and when. Each attempt is its own run: the
// retry is queued with attempt + 1, linked to the run before (tags.retry_of)
// and held back until its backoff ends (not_before). Failures of the job's
// code ("user") are not retried unless the asset says so; failures of the
// platform or the orchestrator ("system": capacity lost, cluster bootstrap,
// throttling, lost track of the job) are, up to retries.max_attempts.
#pragma once

#include <optional>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/definitions/project.h"
#include "arbiter/storage/records.h"

namespace arbiter::service {

inline constexpr const char* kRetryOfTag = "retry_of";
// Tag of a run that must not use spot capacity (runs::kOnDemandTag's value).
inline constexpr const char* kOnDemandTag = "on_demand";

// The wait before attempt `attempt` (the 2nd attempt is 1): backoff doubling
// per attempt up to max_backoff, scaled by `unit_random` (in [0, 1)) into
// [1 - jitter, 1 + jitter].
std::chrono::milliseconds RetryDelay(const definitions::RetryPolicy& policy, int attempt,
                                     double unit_random);

// The retry of `failed` (a run that ended FAILURE), or nullopt with `*why`
// saying why not (attempts used up, a user error). Its id is derived from the
// failed run's, so creating it twice is harmless. The retry of a system
// failure runs without spot capacity (capacity lost once is likely lost
// again); it keeps the failed run's runtime (the caller may place it elsewhere
// when the asset's retries.other_runtime allows).
std::optional<storage::RunRecord> RetryOf(const definitions::AssetDef& asset,
                                          const storage::RunRecord& failed, TimePoint now,
                                          double unit_random, std::string* why);

}  // namespace arbiter::service
