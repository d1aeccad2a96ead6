// CronExpression: when a schedule fires.
//
// Standard five-field cron (minute hour day-of-month month day-of-week) with
// `*`, lists `a,b`, ranges `a-b`, steps `*/n` and `a-b/n`, month names
// JAN..DEC and weekday names SUN..SAT (case-insensitive, 0 and 7 both Sunday),
// and the macros @hourly @daily @midnight @weekly @monthly @yearly @annually.
// As in Vixie cron, when both day-of-month and day-of-week are restricted, a
// day matches if either matches.
//
// Fire times are computed in an IANA time zone. Daylight-saving rules:
//  - a wall-clock time that does not exist (spring forward) fires once, at the
//    first instant after the gap;
//  - a wall-clock time that occurs twice (fall back) fires once, at the first
//    occurrence.
// Immutable; safe to share across threads.
#pragma once

#include <bitset>
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
  bool dom_restricted_ = false;
  bool dow_restricted_ = false;
};

}  // namespace arbiter::time
