// Tests for CronExpression: every parse error form (exact messages), names,
// macros, lists/ranges/steps, the Vixie day-of-month/day-of-week rule, and
// NextAfter in UTC, Europe/Vienna and America/New_York across month ends, leap
// years and both DST transitions. Expected instants are computed by hand:
//   Vienna:   CET = UTC+1, CEST = UTC+2; 2024-03-31 01:00Z 02:00 CET -> 03:00 CEST,
//             2024-10-27 01:00Z 03:00 CEST -> 02:00 CET.
//   New York: EST = UTC-5, EDT = UTC-4; 2024-03-10 07:00Z 02:00 EST -> 03:00 EDT,
//             2024-11-03 06:00Z 02:00 EDT -> 01:00 EST.
#include "arbiter/time/cron.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arbiter::time {
namespace {

using std::chrono::seconds;

// A UTC instant from its civil fields.
TimePoint At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  return TimePoint(day) + std::chrono::hours(h) + std::chrono::minutes(mi) + seconds(s);
}

// "2024-03-31T01:00:00Z", so failures show readable instants.
std::string Iso(TimePoint t) {
  const auto day = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{t - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::shared_ptr<const TimeZone> Zone(std::string_view name) {
  auto z = LookupTimeZone(name);
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return z.ok() ? *z : UtcTimeZone();
}

CronExpression MustParse(std::string_view text) {
  auto c = CronExpression::Parse(text);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().ToString();
  return c.ok() ? *c : *CronExpression::Parse("* * * * *");
}

// The first `n` fire times strictly after `start`, as ISO strings ("none" once
// the expression stops firing).
std::vector<std::string> Fires(std::string_view text, TimePoint start, int n,
                               const TimeZone& zone) {
  CronExpression cron = MustParse(text);
  std::vector<std::string> out;
  TimePoint t = start;
  for (int i = 0; i < n; ++i) {
    std::optional<TimePoint> next = cron.NextAfter(t, zone);
    if (!next) {
      out.push_back("none");
      break;
    }
    out.push_back(Iso(*next));
    t = *next;
  }
  return out;
}

std::vector<std::string> FiresUtc(std::string_view text, TimePoint start, int n) {
  return Fires(text, start, n, *UtcTimeZone());
}

std::string ParseError(std::string_view text) {
  auto c = CronExpression::Parse(text);
  if (c.ok()) return "<parsed>";
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << text;
  return c.status().message();
}

using Strings = std::vector<std::string>;

// ---------------------------------------------------------------- parse errors

TEST(CronParseTest, WrongFieldCount) {
  EXPECT_EQ(ParseError("* * * *"),
            "expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  EXPECT_EQ(ParseError("0"),
            "expected 5 fields (minute hour day-of-month month day-of-week), got 1");
  EXPECT_EQ(ParseError("0 0 0 * * *"),
            "expected 5 fields (minute hour day-of-month month day-of-week), got 6; "
            "seconds and year fields are not supported");
  EXPECT_EQ(ParseError("1 2 3 4 5 6 7 8"),
            "expected 5 fields (minute hour day-of-month month day-of-week), got 8");
}

TEST(CronParseTest, Empty) {
  const std::string kMessage =
      "empty cron expression; expected 5 fields (minute hour day-of-month month day-of-week) "
      "or a macro such as '@daily'";
  EXPECT_EQ(ParseError(""), kMessage);
  EXPECT_EQ(ParseError(" \t "), kMessage);
}

TEST(CronParseTest, ValueOutOfRangeNamesFieldAndRange) {
  EXPECT_EQ(ParseError("61 * * * *"), "minute field: value 61 out of range 0-59");
  EXPECT_EQ(ParseError("0 24 * * *"), "hour field: value 24 out of range 0-23");
  EXPECT_EQ(ParseError("0 0 0 * *"), "day-of-month field: value 0 out of range 1-31");
  EXPECT_EQ(ParseError("0 0 32 * *"), "day-of-month field: value 32 out of range 1-31");
  EXPECT_EQ(ParseError("0 0 * 13 *"), "month field: value 13 out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * 0 *"), "month field: value 0 out of range 1-12");
  EXPECT_EQ(ParseError("0 0 * * 8"), "day-of-week field: value 8 out of range 0-7");
  // Inside ranges, lists and steps too; huge numbers do not overflow.
  EXPECT_EQ(ParseError("1,2,60 * * * *"), "minute field: value 60 out of range 0-59");
  EXPECT_EQ(ParseError("0 20-25 * * *"), "hour field: value 25 out of range 0-23");
  EXPECT_EQ(ParseError("99999999999 * * * *"), "minute field: value 99999999999 out of range 0-59");
}

TEST(CronParseTest, UnknownNamesSuggestTheClosest) {
  EXPECT_EQ(ParseError("0 0 * * MOM"),
            "day-of-week field: unknown name 'MOM'; did you mean 'MON'?");
  EXPECT_EQ(ParseError("0 0 * * mom"),
            "day-of-week field: unknown name 'mom'; did you mean 'MON'?");
  EXPECT_EQ(ParseError("0 0 * JNU *"), "month field: unknown name 'JNU'; did you mean 'JUN'?");
  // Full names are a common slip; suggest the three-letter form.
  EXPECT_EQ(ParseError("0 0 * * Monday"),
            "day-of-week field: unknown name 'Monday'; did you mean 'MON'?");
  EXPECT_EQ(ParseError("0 0 * September *"),
            "month field: unknown name 'September'; did you mean 'SEP'?");
  EXPECT_EQ(ParseError("0 0 * * XYZ"),
            "day-of-week field: unknown name 'XYZ' (expected 0-7 or SUN-SAT)");
  EXPECT_EQ(ParseError("0 0 * QQQ *"),
            "month field: unknown name 'QQQ' (expected 1-12 or JAN-DEC)");
  EXPECT_EQ(ParseError("0 0 * * MON-FRU"),
            "day-of-week field: unknown name 'FRU'; did you mean 'FRI'?");
}

TEST(CronParseTest, NamesOnlyInMonthAndDayOfWeek) {
  EXPECT_EQ(ParseError("0 MON * * *"), "hour field: invalid value 'MON' (expected a number 0-23)");
  EXPECT_EQ(ParseError("0 0 JAN * *"),
            "day-of-month field: invalid value 'JAN' (expected a number 1-31)");
  EXPECT_EQ(ParseError("x * * * *"), "minute field: invalid value 'x' (expected a number 0-59)");
  EXPECT_EQ(ParseError("1x * * * *"), "minute field: invalid value '1x' (expected a number 0-59)");
  EXPECT_EQ(ParseError("0 0 L * *"),
            "day-of-month field: invalid value 'L' (expected a number 1-31)");
}

TEST(CronParseTest, Steps) {
  EXPECT_EQ(ParseError("0 */0 * * *"), "hour field: step must be positive");
  EXPECT_EQ(ParseError("*/-5 * * * *"), "minute field: step must be positive");
  EXPECT_EQ(ParseError("*/x * * * *"), "minute field: invalid step 'x' in '*/x'");
  EXPECT_EQ(ParseError("*/5/2 * * * *"), "minute field: invalid step '5/2' in '*/5/2'");
  EXPECT_EQ(ParseError("*/ * * * *"), "minute field: missing step after '/' in '*/'");
  EXPECT_EQ(ParseError("/5 * * * *"), "minute field: missing value before '/' in '/5'");
  // Intervals longer than the field are not expressible; do not fire "once".
  EXPECT_EQ(ParseError("*/60 * * * *"), "minute field: step 60 out of range 1-59");
  EXPECT_EQ(ParseError("0 */24 * * *"), "hour field: step 24 out of range 1-23");
  EXPECT_EQ(ParseError("0 0 * */12 *"), "month field: step 12 out of range 1-11");
  EXPECT_EQ(ParseError("0 0 * * */7"), "day-of-week field: step 7 out of range 1-6");
}

TEST(CronParseTest, Ranges) {
  EXPECT_EQ(ParseError("0 0 * 12-1 *"), "month field: range 12-1 is reversed");
  EXPECT_EQ(ParseError("0 0 * DEC-JAN *"), "month field: range DEC-JAN is reversed");
  EXPECT_EQ(ParseError("0 0 * * FRI-MON"), "day-of-week field: range FRI-MON is reversed");
  EXPECT_EQ(ParseError("30-10/5 * * * *"), "minute field: range 30-10 is reversed");
  EXPECT_EQ(ParseError("-5 * * * *"), "minute field: range '-5' is missing its start");
  EXPECT_EQ(ParseError("5- * * * *"), "minute field: range '5-' is missing its end");
  EXPECT_EQ(ParseError("1-2-3 * * * *"), "minute field: invalid range '1-2-3'");
}

TEST(CronParseTest, Lists) {
  EXPECT_EQ(ParseError("1,,2 * * * *"), "minute field: empty list element in '1,,2'");
  EXPECT_EQ(ParseError("0 1, * * *"), "hour field: empty list element in '1,'");
  EXPECT_EQ(ParseError("0 0 * * ,MON"), "day-of-week field: empty list element in ',MON'");
}

TEST(CronParseTest, Macros) {
  EXPECT_EQ(ParseError("@dialy"), "unknown macro '@dialy'; did you mean '@daily'?");
  EXPECT_EQ(ParseError("@hourlyy"), "unknown macro '@hourlyy'; did you mean '@hourly'?");
  EXPECT_EQ(ParseError("@sometimes"),
            "unknown macro '@sometimes' (expected one of @hourly, @daily, @midnight, @weekly, "
            "@monthly, @yearly, @annually)");
  EXPECT_EQ(ParseError("@reboot"),
            "macro '@reboot' is not supported: schedules fire at times, not at startup");
  EXPECT_EQ(ParseError("@daily 0 0"),
            "unexpected text '0 0' after macro '@daily' (macros take no fields)");
}

TEST(CronParseTest, AcceptsWhitespaceAndKeepsText) {
  auto c = CronExpression::Parse("  0\t0  *  * \tmon-fri ");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->text(), "0\t0  *  * \tmon-fri");
  auto m = CronExpression::Parse("@Daily");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->text(), "@Daily");
}

// ------------------------------------------------------- matching, in UTC

TEST(CronMatchTest, ListsRangesAndSteps) {
  EXPECT_EQ(FiresUtc("5,10-12,*/20 * * * *", At(2024, 1, 1), 8),
            (Strings{"2024-01-01T00:05:00Z", "2024-01-01T00:10:00Z", "2024-01-01T00:11:00Z",
                     "2024-01-01T00:12:00Z", "2024-01-01T00:20:00Z", "2024-01-01T00:40:00Z",
                     "2024-01-01T01:00:00Z", "2024-01-01T01:05:00Z"}));
  EXPECT_EQ(FiresUtc("10-30/10 * * * *", At(2024, 1, 1), 4),
            (Strings{"2024-01-01T00:10:00Z", "2024-01-01T00:20:00Z", "2024-01-01T00:30:00Z",
                     "2024-01-01T01:10:00Z"}));
  // A step on a single value runs to the end of the field.
  EXPECT_EQ(FiresUtc("5/20 * * * *", At(2024, 1, 1), 4),
            (Strings{"2024-01-01T00:05:00Z", "2024-01-01T00:25:00Z", "2024-01-01T00:45:00Z",
                     "2024-01-01T01:05:00Z"}));
  EXPECT_EQ(FiresUtc("0 9-17/4 * * *", At(2024, 1, 1), 4),
            (Strings{"2024-01-01T09:00:00Z", "2024-01-01T13:00:00Z", "2024-01-01T17:00:00Z",
                     "2024-01-02T09:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 1 */5 *", At(2024, 1, 1), 4),
            (Strings{"2024-06-01T00:00:00Z", "2024-11-01T00:00:00Z", "2025-01-01T00:00:00Z",
                     "2025-06-01T00:00:00Z"}));
}

TEST(CronMatchTest, StrictlyAfterAndSecondsRoundUp) {
  EXPECT_EQ(FiresUtc("* * * * *", At(2024, 1, 1, 10, 0, 30), 2),
            (Strings{"2024-01-01T10:01:00Z", "2024-01-01T10:02:00Z"}));
  EXPECT_EQ(FiresUtc("0 10 * * *", At(2024, 1, 1, 10, 0, 0), 1), (Strings{"2024-01-02T10:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 10 * * *", At(2024, 1, 1, 9, 59, 59), 1),
            (Strings{"2024-01-01T10:00:00Z"}));
}

TEST(CronMatchTest, MonthAndWeekdayNames) {
  // 2024-01-01 is a Monday.
  EXPECT_EQ(FiresUtc("0 0 * * mon-FRI", At(2024, 1, 5, 12), 3),
            (Strings{"2024-01-08T00:00:00Z", "2024-01-09T00:00:00Z", "2024-01-10T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 1 jan,Jul,DEC *", At(2024, 1, 1), 3),
            (Strings{"2024-07-01T00:00:00Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 1 FEB-APR/2 *", At(2024, 1, 1), 3),
            (Strings{"2024-02-01T00:00:00Z", "2024-04-01T00:00:00Z", "2025-02-01T00:00:00Z"}));
}

TEST(CronMatchTest, SundayIsZeroAndSeven) {
  EXPECT_EQ(FiresUtc("0 0 * * 7", At(2024, 1, 1), 2),
            (Strings{"2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 * * 0", At(2024, 1, 1), 2),
            (Strings{"2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 * * SUN", At(2024, 1, 1), 1), (Strings{"2024-01-07T00:00:00Z"}));
  // 5-7 is Friday, Saturday, Sunday.
  EXPECT_EQ(FiresUtc("0 0 * * 5-7", At(2024, 1, 1), 4),
            (Strings{"2024-01-05T00:00:00Z", "2024-01-06T00:00:00Z", "2024-01-07T00:00:00Z",
                     "2024-01-12T00:00:00Z"}));
}

TEST(CronMatchTest, Macros) {
  const TimePoint start = At(2024, 1, 3, 10, 30);  // a Wednesday
  EXPECT_EQ(FiresUtc("@hourly", start, 2),
            (Strings{"2024-01-03T11:00:00Z", "2024-01-03T12:00:00Z"}));
  EXPECT_EQ(FiresUtc("@daily", start, 2),
            (Strings{"2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("@midnight", start, 1), (Strings{"2024-01-04T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("@weekly", start, 2),
            (Strings{"2024-01-07T00:00:00Z", "2024-01-14T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("@monthly", start, 2),
            (Strings{"2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("@yearly", start, 2),
            (Strings{"2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("@annually", start, 1), (Strings{"2025-01-01T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("@DAILY", start, 1), (Strings{"2024-01-04T00:00:00Z"}));
}

TEST(CronMatchTest, DayOfMonthOrDayOfWeekWhenBothRestricted) {
  // Fridays in January 2024: 5, 12, 19, 26; the 13th is a Saturday.
  EXPECT_EQ(FiresUtc("0 0 13 * FRI", At(2024, 1, 1), 5),
            (Strings{"2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z", "2024-01-13T00:00:00Z",
                     "2024-01-19T00:00:00Z", "2024-01-26T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 13 * *", At(2024, 1, 1), 2),
            (Strings{"2024-01-13T00:00:00Z", "2024-02-13T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 * * FRI", At(2024, 1, 1), 2),
            (Strings{"2024-01-05T00:00:00Z", "2024-01-12T00:00:00Z"}));
  // 1-31 is restricted (does not start with '*'), so with MON it means every day.
  EXPECT_EQ(FiresUtc("0 0 1-31 * MON", At(2024, 1, 2), 2),
            (Strings{"2024-01-03T00:00:00Z", "2024-01-04T00:00:00Z"}));
}

TEST(CronMatchTest, StarStepIsUnrestrictedAsInVixie) {
  // "*/2" starts with '*': both fields must match, i.e. odd days that are
  // Mondays. Mondays: Jan 1, 8, 15, 22, 29, Feb 5.
  EXPECT_EQ(FiresUtc("0 0 */2 * MON", At(2024, 1, 1), 3),
            (Strings{"2024-01-15T00:00:00Z", "2024-01-29T00:00:00Z", "2024-02-05T00:00:00Z"}));
}

TEST(CronMatchTest, MonthEnds) {
  EXPECT_EQ(FiresUtc("0 0 31 * *", At(2024, 1, 31), 3),
            (Strings{"2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("59 23 31 12 *", At(2024, 6, 1), 2),
            (Strings{"2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 1 1 *", At(2024, 12, 31, 23, 59, 59), 1),
            (Strings{"2025-01-01T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 12 30 * *", At(2024, 1, 30, 12), 2),
            (Strings{"2024-03-30T12:00:00Z", "2024-04-30T12:00:00Z"}));
}

TEST(CronMatchTest, LeapYears) {
  EXPECT_EQ(FiresUtc("0 0 29 2 *", At(2024, 3, 1), 2),
            (Strings{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}));
  EXPECT_EQ(FiresUtc("0 0 29 2 *", At(2024, 2, 28, 23, 59), 1), (Strings{"2024-02-29T00:00:00Z"}));
  // The next Feb 29 after 2096 is in 2104 (2100 is not a leap year): past the
  // five-year search bound.
  EXPECT_EQ(FiresUtc("0 0 29 2 *", At(2096, 3, 1), 1), (Strings{"none"}));
}

TEST(CronMatchTest, ImpossibleExpressionsNeverFire) {
  const CronExpression cron = MustParse("0 0 30 2 *");
  EXPECT_EQ(cron.NextAfter(At(2024, 1, 1), *UtcTimeZone()), std::nullopt);
  EXPECT_EQ(cron.NextAfter(At(2024, 1, 1), *Zone("Europe/Vienna")), std::nullopt);
  EXPECT_EQ(MustParse("0 0 31 4,6,9,11 *").NextAfter(At(2024, 1, 1), *UtcTimeZone()), std::nullopt);
  // With a day-of-week as well, the OR rule makes it possible.
  EXPECT_EQ(FiresUtc("0 0 30 2 MON", At(2024, 1, 1), 1), (Strings{"2024-02-05T00:00:00Z"}));
}

TEST(CronMatchTest, FixedOffsetZone) {
  // Asia/Kolkata is UTC+05:30 all year: 00:00 local is 18:30Z the day before.
  EXPECT_EQ(Fires("0 0 * * *", At(2024, 1, 1), 2, *Zone("Asia/Kolkata")),
            (Strings{"2024-01-01T18:30:00Z", "2024-01-02T18:30:00Z"}));
}

// ------------------------------------------------------------- DST, Vienna

TEST(CronDstTest, ViennaSpringForwardFixedTimeFiresAtGapEnd) {
  auto vienna = Zone("Europe/Vienna");
  // 02:30 CET on 03-30 = 01:30Z; 02:30 does not exist on 03-31, so it fires at
  // the gap end 03:00 CEST = 01:00Z; then 02:30 CEST on 04-01 = 00:30Z.
  EXPECT_EQ(Fires("30 2 * * *", At(2024, 3, 29, 12), 3, *vienna),
            (Strings{"2024-03-30T01:30:00Z", "2024-03-31T01:00:00Z", "2024-04-01T00:30:00Z"}));
  // Several nonexistent times in one gap fire once.
  EXPECT_EQ(Fires("*/15 2 * * *", At(2024, 3, 31), 2, *vienna),
            (Strings{"2024-03-31T01:00:00Z", "2024-04-01T00:00:00Z"}));
  // ... including when the first real time after the gap matches as well.
  EXPECT_EQ(Fires("0,30 2,3 * * *", At(2024, 3, 31), 3, *vienna),
            (Strings{"2024-03-31T01:00:00Z", "2024-03-31T01:30:00Z", "2024-04-01T00:00:00Z"}));
  EXPECT_EQ(Fires("0 3 * * *", At(2024, 3, 30, 12), 2, *vienna),
            (Strings{"2024-03-31T01:00:00Z", "2024-04-01T01:00:00Z"}));
}

TEST(CronDstTest, ViennaFallBackFixedTimeFiresAtFirstOccurrence) {
  auto vienna = Zone("Europe/Vienna");
  // 02:30 happens at 00:30Z (CEST) and 01:30Z (CET); only the first fires, the
  // next fire is 02:30 CET on 10-28 = 01:30Z.
  EXPECT_EQ(Fires("30 2 * * *", At(2024, 10, 26, 12), 2, *vienna),
            (Strings{"2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"}));
  // Asked from inside the repeated hour, before the second 02:30.
  EXPECT_EQ(Fires("30 2 * * *", At(2024, 10, 27, 1, 0), 1, *vienna),
            (Strings{"2024-10-28T01:30:00Z"}));
}

TEST(CronDstTest, ViennaHourlyFollowsRealTime) {
  auto vienna = Zone("Europe/Vienna");
  // Spring forward: 01:00 CET = 00:00Z, 03:00 CEST = 01:00Z (02:00 is skipped).
  EXPECT_EQ(Fires("0 * * * *", At(2024, 3, 30, 23, 0), 3, *vienna),
            (Strings{"2024-03-31T00:00:00Z", "2024-03-31T01:00:00Z", "2024-03-31T02:00:00Z"}));
  // Fall back: 02:00 CEST = 00:00Z and 02:00 CET = 01:00Z both fire.
  EXPECT_EQ(Fires("0 * * * *", At(2024, 10, 26, 23, 0), 3, *vienna),
            (Strings{"2024-10-27T00:00:00Z", "2024-10-27T01:00:00Z", "2024-10-27T02:00:00Z"}));
}

// ----------------------------------------------------------- DST, New York

TEST(CronDstTest, NewYorkSpringForward) {
  auto ny = Zone("America/New_York");
  // 02:30 EST on 03-09 = 07:30Z; on 03-10 the gap ends at 03:00 EDT = 07:00Z;
  // 02:30 EDT on 03-11 = 06:30Z.
  EXPECT_EQ(Fires("30 2 * * *", At(2024, 3, 9), 3, *ny),
            (Strings{"2024-03-09T07:30:00Z", "2024-03-10T07:00:00Z", "2024-03-11T06:30:00Z"}));
  // Hourly: 01:00 EST = 06:00Z, then 03:00 EDT = 07:00Z.
  EXPECT_EQ(Fires("0 * * * *", At(2024, 3, 10, 5), 3, *ny),
            (Strings{"2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z", "2024-03-10T08:00:00Z"}));
  // Every hour at :30: 02:30 does not exist and does not fire (no extra fire
  // at 03:00); 01:30 EST = 06:30Z, 03:30 EDT = 07:30Z.
  EXPECT_EQ(Fires("30 * * * *", At(2024, 3, 10, 5), 3, *ny),
            (Strings{"2024-03-10T05:30:00Z", "2024-03-10T06:30:00Z", "2024-03-10T07:30:00Z"}));
}

TEST(CronDstTest, NewYorkFallBackFixedHours) {
  auto ny = Zone("America/New_York");
  // 01:30 EDT = 05:30Z fires; 01:30 EST = 06:30Z does not; 01:30 EST on 11-04.
  EXPECT_EQ(Fires("30 1 * * *", At(2024, 11, 2, 12), 3, *ny),
            (Strings{"2024-11-03T05:30:00Z", "2024-11-04T06:30:00Z", "2024-11-05T06:30:00Z"}));
  // Fixed hours 1-3: 01:00 EDT = 05:00Z, 02:00 EST = 07:00Z, 03:00 EST = 08:00Z.
  EXPECT_EQ(Fires("0 1-3 * * *", At(2024, 11, 3, 4), 4, *ny),
            (Strings{"2024-11-03T05:00:00Z", "2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z",
                     "2024-11-04T06:00:00Z"}));
}

TEST(CronDstTest, NewYorkFallBackHourlyFiresBothOccurrences) {
  auto ny = Zone("America/New_York");
  // 00:00 EDT = 04:00Z, 01:00 EDT = 05:00Z, 01:00 EST = 06:00Z, 02:00 EST = 07:00Z.
  EXPECT_EQ(Fires("0 * * * *", At(2024, 11, 3, 3), 5, *ny),
            (Strings{"2024-11-03T04:00:00Z", "2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z",
                     "2024-11-03T07:00:00Z", "2024-11-03T08:00:00Z"}));
  EXPECT_EQ(Fires("@hourly", At(2024, 11, 3, 5), 2, *ny),
            (Strings{"2024-11-03T06:00:00Z", "2024-11-03T07:00:00Z"}));
  EXPECT_EQ(Fires("0 */1 * * *", At(2024, 11, 3, 6), 1, *ny), (Strings{"2024-11-03T07:00:00Z"}));
  // From 01:50 EDT (05:50Z) the next real :00/:20/:40 is 01:00 EST (06:00Z),
  // although its wall-clock time is earlier.
  EXPECT_EQ(Fires("*/20 * * * *", At(2024, 11, 3, 5, 50), 4, *ny),
            (Strings{"2024-11-03T06:00:00Z", "2024-11-03T06:20:00Z", "2024-11-03T06:40:00Z",
                     "2024-11-03T07:00:00Z"}));
  // Restricted to the transition day only, the repeated hour still fires twice.
  EXPECT_EQ(Fires("30 * 3 11 *", At(2024, 11, 3, 5), 3, *ny),
            (Strings{"2024-11-03T05:30:00Z", "2024-11-03T06:30:00Z", "2024-11-03T07:30:00Z"}));
}

// -------------------------------------------------------------- properties

// Local wall-clock fields, computed independently of the code under test.
struct Wall {
  int minute, hour;
};

Wall WallAt(const TimeZone& zone, TimePoint utc) {
  const LocalSeconds local = zone.ToLocal(utc);
  const auto day = std::chrono::floor<std::chrono::days>(local);
  const std::chrono::hh_mm_ss hms{local - day};
  return Wall{static_cast<int>(hms.minutes().count()), static_cast<int>(hms.hours().count())};
}

// Brute force over every UTC minute of the window, straight from the rules in
// cron.h: every-hour expressions fire whenever the wall clock matches; fixed
// ones skip second occurrences and fire at the end of a gap that swallowed a
// matching wall-clock time. Daily expressions only, so matching is on h:m.
std::vector<std::string> BruteForce(bool (*matches)(Wall), bool every_hour, const TimeZone& zone,
                                    TimePoint from, TimePoint to) {
  std::vector<std::string> out;
  for (TimePoint u = from + std::chrono::minutes(1); u <= to; u += std::chrono::minutes(1)) {
    bool fire = matches(WallAt(zone, u));
    if (!every_hour) {
      if (fire && zone.IsRepeatedLocal(u)) fire = false;
      const LocalSeconds before = zone.ToLocal(u - seconds(60));
      const LocalSeconds now = zone.ToLocal(u);
      for (LocalSeconds l = before + seconds(60); l < now; l += seconds(60)) {
        // Wall-clock minutes skipped by a spring-forward jump just before u.
        const auto day = std::chrono::floor<std::chrono::days>(l);
        const std::chrono::hh_mm_ss hms{l - day};
        if (matches(Wall{static_cast<int>(hms.minutes().count()),
                         static_cast<int>(hms.hours().count())})) {
          fire = true;
        }
      }
    }
    if (fire) out.push_back(Iso(u));
  }
  return out;
}

TEST(CronDstTest, AgreesWithBruteForceAroundTransitions) {
  struct Case {
    const char* text;
    bool (*matches)(Wall);
    bool every_hour;
  };
  const Case cases[] = {
      {"30 2 * * *", [](Wall w) { return w.hour == 2 && w.minute == 30; }, false},
      {"*/15 2 * * *", [](Wall w) { return w.hour == 2 && w.minute % 15 == 0; }, false},
      {"* 2 * * *", [](Wall w) { return w.hour == 2; }, false},
      {"0 1-3 * * *", [](Wall w) { return w.hour >= 1 && w.hour <= 3 && w.minute == 0; }, false},
      {"59 1 * * *", [](Wall w) { return w.hour == 1 && w.minute == 59; }, false},
      {"0,30 0-2 * * *", [](Wall w) { return w.hour <= 2 && w.minute % 30 == 0; }, false},
      {"0 * * * *", [](Wall w) { return w.minute == 0; }, true},
      {"*/20 * * * *", [](Wall w) { return w.minute % 20 == 0; }, true},
      {"45 * * * *", [](Wall w) { return w.minute == 45; }, true},
  };
  struct Window {
    const char* zone;
    TimePoint from;
  };
  const Window windows[] = {
      {"Europe/Vienna", At(2024, 3, 29)},
      {"Europe/Vienna", At(2024, 10, 25)},
      {"America/New_York", At(2024, 3, 8)},
      {"America/New_York", At(2024, 11, 1)},
  };
  for (const Window& w : windows) {
    auto zone = Zone(w.zone);
    const TimePoint to = w.from + std::chrono::days(4);
    for (const Case& c : cases) {
      const CronExpression cron = MustParse(c.text);
      std::vector<std::string> got;
      for (std::optional<TimePoint> t = cron.NextAfter(w.from, *zone); t && *t <= to;
           t = cron.NextAfter(*t, *zone)) {
        got.push_back(Iso(*t));
      }
      EXPECT_EQ(got, BruteForce(c.matches, c.every_hour, *zone, w.from, to))
          << c.text << " in " << w.zone << " from " << Iso(w.from);
    }
  }
}

TEST(CronDstTest, EveryFiveMinutesIsEvenlySpacedInRealTimeForAYear) {
  auto vienna = Zone("Europe/Vienna");
  const CronExpression cron = MustParse("*/5 * * * *");
  TimePoint t = At(2023, 12, 31, 23, 0);  // 2024-01-01 00:00 CET
  int count = 0;
  while (true) {
    std::optional<TimePoint> next = cron.NextAfter(t, *vienna);
    ASSERT_TRUE(next.has_value());
    if (*next > At(2024, 12, 31, 23, 0)) break;
    ASSERT_EQ(*next - t, seconds(300)) << "after " << Iso(t);
    t = *next;
    ++count;
  }
  EXPECT_EQ(count, 366 * 288);
}

TEST(CronDstTest, DailyFixedTimeFiresOncePerLocalDay) {
  for (const char* name : {"Europe/Vienna", "America/New_York"}) {
    auto zone = Zone(name);
    for (const char* text : {"30 2 * * *", "0 1 * * *", "59 1 * * *", "15 3 * * *"}) {
      const CronExpression cron = MustParse(text);
      // Local fire times between 01:00 and 03:15 are between 00:00Z and 08:15Z
      // of the same date in both zones, so [12:00Z on 2023-12-31, 12:00Z on
      // 2024-12-31) holds exactly the fires of the 366 local days of 2024.
      TimePoint t = At(2023, 12, 31, 12);
      int count = 0;
      while (true) {
        std::optional<TimePoint> next = cron.NextAfter(t, *zone);
        ASSERT_TRUE(next.has_value());
        ASSERT_GT(*next, t);
        if (*next >= At(2024, 12, 31, 12)) break;
        t = *next;
        ++count;
      }
      EXPECT_EQ(count, 366) << name << " " << text;
    }
  }
}

}  // namespace
}  // namespace arbiter::time
