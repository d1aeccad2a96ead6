// When schedules fire: the cron instants due since a schedule's last recorded
// tick, and which of them the catch-up policy launches after the service was
// down. Pure: the caller passes "now" and the last tick, so the scheduler is
// tested in simulated time (DST days included, through CronExpression).
#pragma once

#include <optional>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/definitions/project.h"
#include "arbiter/time/cron.h"
#include "arbiter/time/time_zone.h"

namespace arbiter::service {

// A tick later than this when the service looks at it was missed (the
// service was down or asleep): the catch-up policy decides whether it runs.
inline constexpr std::chrono::seconds kMissedAfter{60};
// At most this many due ticks are looked at in one evaluation; older ones of
// a very long downtime count as skipped.
inline constexpr int kMaxTicksPerEvaluation = 1000;

struct DueTicks {
  std::vector<TimePoint> fire;  // to launch, oldest first
  // Due ticks the catch-up policy skips: how many, and the newest of them
  // (recorded as one "skipped" tick so the service never looks at them again).
  int skipped = 0;
  std::optional<TimePoint> newest_skipped;
  std::optional<TimePoint> oldest_skipped;
  std::optional<TimePoint> next;  // the first tick after `now`, if the cron ever fires again
};

// Ticks in (after, now]. `after` is the schedule's last recorded tick, or when
// the service started watching a schedule that never ticked.
DueTicks ComputeDueTicks(const time::CronExpression& cron, const time::TimeZone& zone,
                         definitions::ScheduleDef::Catchup catchup, TimePoint after,
                         TimePoint now);

}  // namespace arbiter::service
