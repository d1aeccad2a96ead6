// TimeZone: an IANA time zone from the system tzdata, with fast UTC<->local
// conversion for the range of instants a partitions definition covers.
//
// LookupTimeZone validates a name ("Europe/Vienna", "UTC") and suggests the
// closest known name on a typo. A TimeZone is immutable and safe to share.
// Offsets come from the system tzdata; DST after 2037 (where the files stop
// listing transitions) follows each file's POSIX rule, up to the year 2400.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"

namespace arbiter::time {

using LocalSeconds = std::chrono::local_seconds;  // wall-clock time, no zone

// How to resolve a local time that is ambiguous or does not exist.
//  - kEarliest: ambiguous -> first occurrence; nonexistent -> first instant after the gap.
enum class LocalResolution { kEarliest };

struct LocalToUtc {
  TimePoint utc;
  bool nonexistent = false;  // local time fell in a spring-forward gap
  bool ambiguous = false;    // local time occurs twice (fall back)
};

// What a zone says about one UTC instant (see TimeZone::InfoAt).
struct UtcInfo {
  std::chrono::seconds offset{0};
  bool repeated_local = false;  // as IsRepeatedLocal
};

class TimeZone {
 public:
  virtual ~TimeZone() = default;
  virtual const std::string& name() const = 0;
  // Offset from UTC at `utc` (local = utc + offset).
  virtual std::chrono::seconds OffsetAt(TimePoint utc) const = 0;
  virtual LocalSeconds ToLocal(TimePoint utc) const = 0;
  virtual LocalToUtc ToUtc(LocalSeconds local) const = 0;

  // True when ToLocal(utc) is the second occurrence of a wall-clock time that
  // repeats after a fall-back transition. The default derives it from the other
  // members; implementations may answer faster.
  virtual bool IsRepeatedLocal(TimePoint utc) const;

  // OffsetAt and IsRepeatedLocal in one lookup (the hot path of hourly keys).
  virtual UtcInfo InfoAt(TimePoint utc) const { return {OffsetAt(utc), IsRepeatedLocal(utc)}; }
};

// Looks up an IANA zone. kInvalidArgument "unknown time zone 'Europe/Viena';
// did you mean 'Europe/Vienna'?" when it does not exist.
// Zones are built once per name and cached for the life of the process, so
// repeated lookups are cheap. Thread-safe.
Result<std::shared_ptr<const TimeZone>> LookupTimeZone(std::string_view name);

// The UTC zone (never fails; does not need tzdata).
std::shared_ptr<const TimeZone> UtcTimeZone();

// Every zone name the system tzdata knows, sorted. Read once and cached.
const std::vector<std::string>& KnownTimeZoneNames();

}  // namespace arbiter::time
