// Tests for civil date-time parsing/formatting, leap years, day arithmetic and
// ISO-8601 output with zone offsets.
#include "arbiter/time/local_date_time.h"

#include <gtest/gtest.h>

namespace arbiter::time {
namespace {

using namespace std::chrono_literals;

int64_t LocalCount(std::string_view text) {
  auto r = ParseLocalDateTime(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? r->time_since_epoch().count() : -1;
}

std::string ParseError(std::string_view text) {
  auto r = ParseLocalDateTime(text);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

TEST(LocalDateTimeTest, ParsesAllAcceptedForms) {
  // 2024-01-01T00:00:00 = 19723 days * 86400 after the epoch.
  EXPECT_EQ(LocalCount("2024-01-01"), 1704067200);
  EXPECT_EQ(LocalCount("2024-01-01T06:00"), 1704067200 + 6 * 3600);
  EXPECT_EQ(LocalCount("2024-01-01 06:00"), 1704067200 + 6 * 3600);
  EXPECT_EQ(LocalCount("2024-01-01T06:00:00"), 1704067200 + 6 * 3600);
  EXPECT_EQ(LocalCount("2024-01-01 06:07:08"), 1704067200 + 6 * 3600 + 7 * 60 + 8);
  EXPECT_EQ(LocalCount("1970-01-01"), 0);
  EXPECT_EQ(LocalCount("1969-12-31T23:59:59"), -1);
  EXPECT_EQ(LocalCount("2024-12-31T23:59:59"), 1735689599);
}

TEST(LocalDateTimeTest, LeapYears) {
  EXPECT_EQ(LocalCount("2024-02-29"), 1709164800);
  EXPECT_EQ(LocalCount("2000-02-29"), 951782400);
  EXPECT_EQ(ParseError("2023-02-29"),
            "invalid date-time '2023-02-29': day 29 out of range 1-28 for February 2023 "
            "(not a leap year)");
  EXPECT_EQ(ParseError("2100-02-29"),
            "invalid date-time '2100-02-29': day 29 out of range 1-28 for February 2100 "
            "(not a leap year)");
  EXPECT_FALSE(ParseLocalDateTime("2024-02-30").ok());
  EXPECT_TRUE(IsLeapYear(2000));
  EXPECT_TRUE(IsLeapYear(2024));
  EXPECT_FALSE(IsLeapYear(2100));
  EXPECT_FALSE(IsLeapYear(2023));
  EXPECT_EQ(DaysInMonth(2024, 2), 29);
  EXPECT_EQ(DaysInMonth(1900, 2), 28);
  EXPECT_EQ(DaysInMonth(2023, 4), 30);
  EXPECT_EQ(DaysInMonth(2023, 12), 31);
}

TEST(LocalDateTimeTest, RejectsOutOfRangeFields) {
  EXPECT_EQ(ParseError("2024-13-01"), "invalid date-time '2024-13-01': month 13 out of range 1-12");
  EXPECT_EQ(ParseError("2024-00-10"), "invalid date-time '2024-00-10': month 0 out of range 1-12");
  EXPECT_EQ(ParseError("2024-04-31"),
            "invalid date-time '2024-04-31': day 31 out of range 1-30 for April 2024");
  EXPECT_EQ(ParseError("2024-01-00"),
            "invalid date-time '2024-01-00': day 0 out of range 1-31 for January 2024");
  EXPECT_EQ(ParseError("2024-01-01T24:00"),
            "invalid date-time '2024-01-01T24:00': hour 24 out of range 0-23");
  EXPECT_EQ(ParseError("2024-01-01T23:60"),
            "invalid date-time '2024-01-01T23:60': minute 60 out of range 0-59");
  EXPECT_EQ(ParseError("2024-01-01T23:59:60"),
            "invalid date-time '2024-01-01T23:59:60': second 60 out of range 0-59");
}

TEST(LocalDateTimeTest, RejectsOtherShapesAndShowsAcceptedForms) {
  const std::string forms =
      "; accepted forms: YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DD HH:MM, YYYY-MM-DDTHH:MM:SS";
  EXPECT_EQ(ParseError("2024-1-1"), "invalid date-time '2024-1-1'" + forms);
  for (const char* bad : {"", "2024/01/01", "2024-01-01T6:00", "2024-01-01T06", "24-01-01",
                          "2024-01-01T06:00Z", "2024-01-01X06:00", "2024-01-01T06:00:0",
                          " 2024-01-01", "2024-01-01+06:00", "2024-0a-01", "2024-01-01T06-00"}) {
    auto r = ParseLocalDateTime(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("accepted forms"), std::string::npos) << bad;
  }
}

TEST(LocalDateTimeTest, FormatsLocalDateTime) {
  EXPECT_EQ(FormatLocalDateTime(LocalSeconds(0s)), "1970-01-01T00:00:00");
  EXPECT_EQ(FormatLocalDateTime(LocalSeconds(-1s)), "1969-12-31T23:59:59");
  EXPECT_EQ(FormatLocalDateTime(LocalSeconds(1709164800s + 3723s)), "2024-02-29T01:02:03");
  for (const char* text : {"2024-02-29T00:00:00", "2000-03-01T12:34:56", "1900-02-28T23:59:59",
                           "0001-01-01T00:00:00", "9999-12-31T23:59:59"}) {
    EXPECT_EQ(FormatLocalDateTime(*ParseLocalDateTime(text)), text);
  }
}

TEST(LocalDateTimeTest, CivilDayArithmeticRoundTrips) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(WeekdayFromDays(0), 4);                         // Thursday
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil(2024, 3, 31)), 0);  // Sunday
  EXPECT_EQ(WeekdayFromDays(DaysFromCivil(1969, 12, 28)), 0);  // Sunday
  int64_t expected = DaysFromCivil(1600, 1, 1);
  for (int y = 1600; y <= 2400; ++y) {
    for (int m = 1; m <= 12; ++m) {
      for (int d = 1; d <= DaysInMonth(y, m); ++d) {
        ASSERT_EQ(DaysFromCivil(y, m, d), expected) << y << "-" << m << "-" << d;
        CivilDate c = CivilFromDays(expected);
        ASSERT_EQ(c.year, y);
        ASSERT_EQ(c.month, m);
        ASSERT_EQ(c.day, d);
        ASSERT_EQ(WeekdayFromDays(expected), ((expected % 7 + 7) % 7 + 4) % 7);
        ++expected;
      }
    }
  }
}

TEST(LocalDateTimeTest, Iso8601UsesTheZoneOffset) {
  auto vienna = *LookupTimeZone("Europe/Vienna");
  auto ny = *LookupTimeZone("America/New_York");
  auto utc = *LookupTimeZone("UTC");
  // 2024-03-31T01:00:00Z: Vienna just switched to CEST.
  const TimePoint sw = TimePoint(1711846800s);
  EXPECT_EQ(FormatIso8601(sw, *vienna), "2024-03-31T03:00:00+02:00");
  EXPECT_EQ(FormatIso8601(sw - 1s, *vienna), "2024-03-31T01:59:59+01:00");
  EXPECT_EQ(FormatIso8601(sw, *ny), "2024-03-30T21:00:00-04:00");
  EXPECT_EQ(FormatIso8601(sw, *utc), "2024-03-31T01:00:00+00:00");
  // Both 01:30 in New York on 2024-11-03 (05:30Z EDT and 06:30Z EST).
  EXPECT_EQ(FormatIso8601(TimePoint(1730611800s), *ny), "2024-11-03T01:30:00-04:00");
  EXPECT_EQ(FormatIso8601(TimePoint(1730615400s), *ny), "2024-11-03T01:30:00-05:00");
  auto kathmandu = *LookupTimeZone("Asia/Kathmandu");
  EXPECT_EQ(FormatIso8601(sw, *kathmandu), "2024-03-31T06:45:00+05:45");
  EXPECT_EQ(FormatUtcOffset(-9000s), "-02:30");
  EXPECT_EQ(FormatUtcOffset(3921s), "+01:05:21");
}

}  // namespace
}  // namespace arbiter::time
