// Civil (wall-clock) date-times as users write them in arbiter.yaml:
// "2024-01-01", "2024-01-01T06:00", "2024-01-01 06:00", "2024-01-01T06:00:00".
#pragma once

#include <string>
#include <string_view>

#include "arbiter/common/status.h"
#include "arbiter/time/time_zone.h"

namespace arbiter::time {

// Parses a local date or date-time; validates ranges (month 1-12, day within the
// month including leap years, hour 0-23, minute 0-59, second 0-59).
// Errors say what is wrong and show the accepted forms.
Result<LocalSeconds> ParseLocalDateTime(std::string_view text);

// "2024-01-01T06:00:00" (no offset).
std::string FormatLocalDateTime(LocalSeconds t);

// ISO-8601 with the zone's offset at that instant: "2024-03-31T03:00:00+02:00".
std::string FormatIso8601(TimePoint utc, const TimeZone& zone);

}  // namespace arbiter::time
