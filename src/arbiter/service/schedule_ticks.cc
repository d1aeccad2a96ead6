#include "arbiter/service/schedule_ticks.h"

namespace arbiter::service {

using Catchup = definitions::ScheduleDef::Catchup;

DueTicks ComputeDueTicks(const time::CronExpression& cron, const time::TimeZone& zone,
                         Catchup catchup, TimePoint after, TimePoint now) {
  DueTicks out;
  std::vector<TimePoint> due;
  int beyond = 0;  // due ticks past the evaluation cap (oldest first are kept)
  std::optional<TimePoint> t = cron.NextAfter(after, zone);
  std::optional<TimePoint> newest;
  while (t && *t <= now) {
    if (static_cast<int>(due.size()) < kMaxTicksPerEvaluation) {
      due.push_back(*t);
    } else {
      ++beyond;
    }
    newest = *t;
    t = cron.NextAfter(*t, zone);
  }
  out.next = t;
  if (due.empty()) return out;
  // With more due ticks than the cap, the newest one still counts as newest.
  if (beyond > 0) {
    due.push_back(*newest);
    --beyond;
  }
  auto skip = [&](size_t begin, size_t end) {
    if (begin >= end) return;
    out.skipped += static_cast<int>(end - begin);
    out.oldest_skipped = due[begin];
    out.newest_skipped = due[end - 1];
  };
  const bool newest_on_time = now - due.back() <= kMissedAfter;
  switch (catchup) {
    case Catchup::kAll:
      out.fire = due;
      break;
    case Catchup::kLatest:
      skip(0, due.size() - 1);
      out.fire.push_back(due.back());
      break;
    case Catchup::kNone:
      if (newest_on_time) {
        skip(0, due.size() - 1);
        out.fire.push_back(due.back());
      } else {
        skip(0, due.size());
      }
      break;
  }
  out.skipped += beyond;
  return out;
}

}  // namespace arbiter::service
