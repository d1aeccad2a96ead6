// Durations as users write them: "90s", "45m", "2h", "1h30m", "1d". Used for
// max_duration, cheapest_within deadlines and expected durations.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

namespace arbiter {

// Parses a positive duration made of <integer><unit> groups, units d, h, m, s,
// largest first, each at most once ("1h30m"). Errors name the problem.
Result<std::chrono::seconds> ParseDuration(std::string_view text);

// Formats as the shortest form ParseDuration accepts ("1h30m", "0s").
std::string FormatDuration(std::chrono::seconds d);

}  // namespace arbiter
