// TimeZone: an IANA time zone from the system tzdata, with fast UTC<->local
// conversion for the range of instants a partitions definition covers.
//
// LookupTimeZone validates a name ("Europe/Vienna", "UTC") and suggests the
// closest known name on a typo. A TimeZone is immutable and safe to share.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

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

class TimeZone {
 public:
  virtual ~TimeZone() = default;
  virtual const std::string& name() const = 0;
  // Offset from UTC at `utc` (local = utc + offset).
  virtual std::chrono::seconds OffsetAt(TimePoint utc) const = 0;
  virtual LocalSeconds ToLocal(TimePoint utc) const = 0;
  virtual LocalToUtc ToUtc(LocalSeconds local) const = 0;
};

// Looks up an IANA zone. kInvalidArgument "unknown time zone 'Europe/Viena';
// did you mean 'Europe/Vienna'?" when it does not exist.
Result<std::shared_ptr<const TimeZone>> LookupTimeZone(std::string_view name);

}  // namespace arbiter::time
