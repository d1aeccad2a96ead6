// Civil (wall-clock) date-times as users write them in arbiter.yaml:
// "2024-01-01", "2024-01-01T06:00", "2024-01-01 06:00", "2024-01-01T06:00:00",
// plus the proleptic-Gregorian day arithmetic the partitions code builds on.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"
#include "arbiter/time/time_zone.h"

namespace arbiter::time {

struct CivilDate {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

struct CivilDateTime {
  CivilDate date;
  int hour = 0, minute = 0, second = 0;
};

constexpr bool IsLeapYear(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

constexpr int DaysInMonth(int64_t y, int m) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (negative before).
// Valid for any month 1..12 and day 1..31 (days past the month end roll over).
constexpr int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                                  // [0, 399]
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;  // [0, 365]
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;         // [0, 146096]
  return era * 146097 + doe - 719468;
}

// Inverse of DaysFromCivil.
constexpr CivilDate CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                   // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                 // [0, 11]
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{static_cast<int>(era * 400 + yoe + (m <= 2)), m, d};
}

// 0 = Sunday .. 6 = Saturday, for a day count from DaysFromCivil.
constexpr int WeekdayFromDays(int64_t z) {
  return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6);
}

// Floor division for seconds -> days etc.; b > 0.
constexpr int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0)); }

// Splits a local time into fields and back (FromCivil does not validate).
CivilDateTime ToCivil(LocalSeconds t);
LocalSeconds FromCivil(const CivilDateTime& c);

// Parses a local date or date-time; validates ranges (month 1-12, day within the
// month including leap years, hour 0-23, minute 0-59, second 0-59).
// Errors say what is wrong and show the accepted forms.
Result<LocalSeconds> ParseLocalDateTime(std::string_view text);

// "2024-01-01T06:00:00" (no offset).
std::string FormatLocalDateTime(LocalSeconds t);

// ISO-8601 with the zone's offset at that instant: "2024-03-31T03:00:00+02:00".
std::string FormatIso8601(TimePoint utc, const TimeZone& zone);

// "+02:00", "-05:00", "+00:00" ("+01:05:21" for historical second offsets).
std::string FormatUtcOffset(std::chrono::seconds offset);

}  // namespace arbiter::time
