// TimeWindowPartitions: hourly, daily, weekly or monthly windows in an IANA
// time zone, from a start to an optional end (else up to the last window that
// has ended by "now").
//
// Index arithmetic is O(1): index -> window -> key, and key -> index, without
// enumerating windows. Daylight-saving time:
//  - hourly: each partition is one real hour. In a spring-forward gap the
//    skipped wall-clock hour has no partition (no real hour is lost). In a
//    fall-back overlap the wall-clock hour occurs twice; the first keeps its
//    plain key and the second gets the UTC offset appended ("+HHMM"), unless
//    the format already contains %z, so keys stay unique.
//  - daily/weekly/monthly: windows start at local midnight plus the offsets, so
//    a day may last 23 or 25 hours. A start time that falls in a gap moves to
//    the first instant after it; an ambiguous one takes the first occurrence.
//    Keys show the nominal time (%H/%M = hour_offset/minute_offset) either way.
// Size counts the windows that have ended by spec.end (or by `now` when there
// is no end), so a partially elapsed window is never a partition yet.
// IndexOf accepts only the exact strings KeyAt produces.
// Immutable; safe to share across threads.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"
#include "arbiter/definitions/partitions/partitions_def.h"
#include "arbiter/time/key_format.h"
#include "arbiter/time/time_zone.h"

namespace arbiter::definitions {

enum class Cadence { kHourly, kDaily, kWeekly, kMonthly };

std::string_view CadenceName(Cadence c);  // "hourly", ...

struct TimeWindowSpec {
  Cadence cadence = Cadence::kDaily;
  time::LocalSeconds start;                // first window starts at or after this local time
  std::optional<time::LocalSeconds> end;   // exclusive; nullopt = up to `now`
  std::string timezone = "UTC";            // IANA name
  std::string format;                      // empty = default for the cadence
  int minute_offset = 0;                   // 0..59
  int hour_offset = 0;                     // 0..23 (daily, weekly, monthly)
  int day_offset = 0;                      // weekly: 0=Sunday..6; monthly: 1..28 (0 = 1)
};

// The default key format of a cadence: "%Y-%m-%d-%H:%M" for hourly, "%Y-%m-%d"
// otherwise (as Dagster's defaults, so keys carry over).
std::string DefaultKeyFormat(Cadence c);

// Checks that `format` identifies a window of `cadence` uniquely (hourly needs
// %Y %m %d %H; daily and weekly %Y %m %d; monthly %Y %m). Message names what is missing.
Status ValidateKeyFormatForCadence(const time::KeyFormat& format, Cadence c);

struct TimeWindow {
  TimePoint start;  // UTC, inclusive
  TimePoint end;    // UTC, exclusive
};

class TimeWindowPartitions final : public PartitionsDef {
 public:
  // Errors (kInvalidArgument): unknown zone, bad format, offsets out of range,
  // end not after start. `now` bounds the definition when spec.end is absent.
  static Result<std::unique_ptr<TimeWindowPartitions>> Create(const TimeWindowSpec& spec,
                                                              TimePoint now);
  ~TimeWindowPartitions() override;

  PartitionsKind kind() const override { return PartitionsKind::kTimeWindow; }
  int64_t Size() const override;
  std::string KeyAt(int64_t index) const override;
  std::optional<int64_t> IndexOf(std::string_view key) const override;
  std::string Describe() const override;

  // REQUIRES: 0 <= index < Size(). Windows past the end are also defined
  // (index >= Size()) so callers can ask for the next window.
  TimeWindow WindowAt(int64_t index) const;
  // The index of the window containing `t`, or nullopt before the first window.
  std::optional<int64_t> IndexContaining(TimePoint t) const;

  const TimeWindowSpec& spec() const;  // as given, with an empty format defaulted
  const time::TimeZone& zone() const;

 private:
  struct Impl;
  explicit TimeWindowPartitions(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace arbiter::definitions
