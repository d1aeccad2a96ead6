// CronExpression: when a schedule fires.
//
// Standard five-field cron (minute hour day-of-month month day-of-week) with
// `*`, lists `a,b`, ranges `a-b`, steps `*/n` and `a-b/n`, month names
// JAN..DEC and weekday names SUN..SAT (case-insensitive, 0 and 7 both Sunday),
// and the macros @hourly @daily @midnight @weekly @monthly @yearly @annually.
// As in Vixie cron, when both day-of-month and day-of-week are restricted, a
// day matches if either matches; otherwise both must match. Also as in Vixie
// cron, a field counts as restricted unless its text starts with '*', so
// "0 0 */2 * MON" means odd days that are Mondays, while "0 0 1-31 * MON" means
// every day. A step on a single value runs to the end of the field ("5/15" is
// "5-59/15" in the minute field). A step larger than the field can express
// ("*/60" minutes, "*/24" hours) is an error rather than a silent "once".
//
// Fire times are computed in an IANA time zone. Daylight-saving rules for
// expressions with fixed hours (any hour field that does not cover all 24):
//  - a wall-clock time that does not exist (spring forward) fires once, at the
//    first instant after the gap (several such times in one gap fire once);
//  - a wall-clock time that occurs twice (fall back) fires once, at the first
//    occurrence.
// Expressions whose hour field covers every hour ('*', "*/1", "0-23") follow
// real time instead, which is what users of hourly schedules expect: every real
// instant whose wall-clock time matches fires, so a repeated hour fires twice
// ("0 * * * *" fires at both 01:00 EDT and 01:00 EST) and wall-clock times
// inside a gap do not fire at all (the next real hour fires as usual).
// Immutable; safe to share across threads.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"
#include "arbiter/time/time_zone.h"

namespace arbiter::time {

class CronExpression {
 public:
  // Parses `text`. Errors (kInvalidArgument) name the field and the bad value,
  // e.g. "minute field: value 61 out of range 0-59", "expected 5 fields
  // (minute hour day-of-month month day-of-week), got 4".
  static Result<CronExpression> Parse(std::string_view text);

  // The first fire time strictly after `after`, evaluated in `zone`; nullopt if
  // the expression can never fire (e.g. "0 0 30 2 *") within the next 5 years.
  std::optional<TimePoint> NextAfter(TimePoint after, const TimeZone& zone) const;

  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_of_month_;  // 1..31
  std::bitset<13> months_;         // 1..12
  std::bitset<7> days_of_week_;    // 0 = Sunday
  // Vixie's "restricted": the field's text does not start with '*'.
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;

  bool DayMatches(int day_of_month, int weekday) const;
  // The first matching local minute at or after `from` (local seconds since the
  // epoch) on a local day before `end_day` (days since the epoch), if any.
  std::optional<int64_t> NextLocalMatch(int64_t from, int64_t end_day) const;
};

}  // namespace arbiter::time
