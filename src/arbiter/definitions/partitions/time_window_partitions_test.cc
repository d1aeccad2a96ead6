// Tests for TimeWindowPartitions: DST in Europe/Vienna and America/New_York
// (hourly gaps/overlaps, 23/25-hour days), leap years, month ends, weekly
// offsets, index<->key round trips over a million windows, "up to now" with
// fixed instants, and creation errors. Expected UTC instants are computed by
// hand (and double-checked with `date -u -d ... +%s`).
#include "arbiter/definitions/partitions/time_window_partitions.h"

#include <gtest/gtest.h>

#include <unordered_set>

#include "arbiter/time/local_date_time.h"

namespace arbiter::definitions {
namespace {

using namespace std::chrono_literals;
using std::chrono::sys_days;

TimePoint Utc(int64_t unix_seconds) { return TimePoint(std::chrono::seconds(unix_seconds)); }
time::LocalSeconds L(std::string_view text) {
  auto r = time::ParseLocalDateTime(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : time::LocalSeconds{};
}

// A fixed "now" far in the future, for specs that have an end anyway.
const TimePoint kNow = TimePoint(sys_days(2030y / 1 / 1));

TimeWindowSpec Spec(Cadence cadence, std::string_view start, std::optional<std::string_view> end,
                    std::string tz = "UTC") {
  TimeWindowSpec s;
  s.cadence = cadence;
  s.start = L(start);
  if (end) s.end = L(*end);
  s.timezone = std::move(tz);
  return s;
}

std::unique_ptr<TimeWindowPartitions> Make(const TimeWindowSpec& spec, TimePoint now = kNow) {
  auto p = TimeWindowPartitions::Create(spec, now);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(p).value() : nullptr;
}

std::string CreateError(const TimeWindowSpec& spec) {
  auto p = TimeWindowPartitions::Create(spec, kNow);
  EXPECT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  return p.ok() ? "" : p.status().message();
}

void ExpectAllRoundTrip(const TimeWindowPartitions& p) {
  for (int64_t i = 0; i < p.Size(); ++i) {
    ASSERT_EQ(p.IndexOf(p.KeyAt(i)), i) << p.KeyAt(i);
  }
}

int64_t Length(const TimeWindow& w) { return (w.end - w.start).count(); }

TEST(TimeWindowPartitionsTest, NamesAndDefaults) {
  EXPECT_EQ(CadenceName(Cadence::kHourly), "hourly");
  EXPECT_EQ(CadenceName(Cadence::kMonthly), "monthly");
  EXPECT_EQ(DefaultKeyFormat(Cadence::kHourly), "%Y-%m-%d-%H:%M");
  EXPECT_EQ(DefaultKeyFormat(Cadence::kWeekly), "%Y-%m-%d");
  auto p = Make(Spec(Cadence::kDaily, "2024-01-01", "2024-01-02"));
  EXPECT_EQ(p->kind(), PartitionsKind::kTimeWindow);
  EXPECT_EQ(p->spec().format, "%Y-%m-%d");  // filled in
  EXPECT_EQ(p->zone().name(), "UTC");
}

TEST(TimeWindowPartitionsTest, KeyFormatMustIdentifyTheCadence) {
  auto ym = *time::KeyFormat::Compile("%Y-%m");
  EXPECT_EQ(ValidateKeyFormatForCadence(ym, Cadence::kDaily).message(),
            "key format '%Y-%m' cannot identify daily windows: it lacks %d");
  EXPECT_TRUE(ValidateKeyFormatForCadence(ym, Cadence::kMonthly).ok());
  auto y = *time::KeyFormat::Compile("year=%Y");
  EXPECT_EQ(ValidateKeyFormatForCadence(y, Cadence::kHourly).message(),
            "key format 'year=%Y' cannot identify hourly windows: it lacks %m, %d, %H");
  auto ymd = *time::KeyFormat::Compile("%Y%m%d");
  EXPECT_TRUE(ValidateKeyFormatForCadence(ymd, Cadence::kWeekly).ok());
  EXPECT_FALSE(ValidateKeyFormatForCadence(ymd, Cadence::kHourly).ok());
}

TEST(TimeWindowPartitionsTest, HourlyUtc) {
  auto p = Make(Spec(Cadence::kHourly, "2024-01-01", "2024-01-02"));
  ASSERT_EQ(p->Size(), 24);
  EXPECT_EQ(p->KeyAt(0), "2024-01-01-00:00");
  EXPECT_EQ(p->KeyAt(23), "2024-01-01-23:00");
  EXPECT_EQ(p->KeyAt(24), "2024-01-02-00:00");  // past the end is still defined
  EXPECT_EQ(p->WindowAt(0).start, Utc(1704067200));
  EXPECT_EQ(p->WindowAt(0).end, Utc(1704067200 + 3600));
  EXPECT_EQ(p->IndexOf("2024-01-01-13:00"), 13);
  EXPECT_EQ(p->IndexOf("2024-01-02-00:00"), std::nullopt);  // out of range
  EXPECT_EQ(p->IndexOf("2023-12-31-23:00"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-01-01-13:30"), std::nullopt);  // wrong minute
  EXPECT_EQ(p->IndexOf("2024-01-01-13:00 "), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-01-01T13:00"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-01-01-13:00+0000"), std::nullopt);  // no repeated hours in UTC
  EXPECT_EQ(p->IndexOf(""), std::nullopt);
  EXPECT_EQ(p->IndexContaining(Utc(1704067200 + 3599)), 0);
  EXPECT_EQ(p->IndexContaining(Utc(1704067200 + 3600)), 1);
  EXPECT_EQ(p->IndexContaining(Utc(1704067199)), std::nullopt);
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, HourlyViennaSpringForwardSkipsTheGapHour) {
  auto p = Make(Spec(Cadence::kHourly, "2024-03-31", "2024-04-01", "Europe/Vienna"));
  // The local day has 23 hours; 02:00-03:00 does not exist.
  ASSERT_EQ(p->Size(), 23);
  EXPECT_EQ(p->KeyAt(0), "2024-03-31-00:00");
  EXPECT_EQ(p->WindowAt(0).start, Utc(1711839600));  // 2024-03-30T23:00:00Z
  EXPECT_EQ(p->KeyAt(1), "2024-03-31-01:00");
  EXPECT_EQ(p->KeyAt(2), "2024-03-31-03:00");
  EXPECT_EQ(p->WindowAt(2).start, Utc(1711846800));  // 2024-03-31T01:00:00Z
  EXPECT_EQ(p->KeyAt(22), "2024-03-31-23:00");
  EXPECT_EQ(p->IndexOf("2024-03-31-02:00"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-03-31-03:00"), 2);
  for (int64_t i = 0; i < p->Size(); ++i) EXPECT_EQ(Length(p->WindowAt(i)), 3600);
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, HourlyViennaFallBackHasTwoDistinctKeys) {
  auto p = Make(Spec(Cadence::kHourly, "2024-10-27", "2024-10-28", "Europe/Vienna"));
  ASSERT_EQ(p->Size(), 25);
  EXPECT_EQ(p->WindowAt(0).start, Utc(1729980000));  // 2024-10-26T22:00:00Z
  EXPECT_EQ(p->KeyAt(2), "2024-10-27-02:00");        // 00:00Z, CEST
  EXPECT_EQ(p->KeyAt(3), "2024-10-27-02:00+0100");   // 01:00Z, CET
  EXPECT_EQ(p->WindowAt(3).start, Utc(1729990800));
  EXPECT_EQ(p->KeyAt(4), "2024-10-27-03:00");
  EXPECT_EQ(p->KeyAt(24), "2024-10-27-23:00");
  EXPECT_EQ(p->IndexOf("2024-10-27-02:00"), 2);
  EXPECT_EQ(p->IndexOf("2024-10-27-02:00+0100"), 3);
  EXPECT_EQ(p->IndexOf("2024-10-27-02:00+0200"), std::nullopt);  // not the form KeyAt makes
  EXPECT_EQ(p->IndexOf("2024-10-27-03:00+0100"), std::nullopt);  // 03:00 is not repeated
  EXPECT_EQ(p->IndexOf("2024-10-27-02:00+01000"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-10-27-02:00-0100"), std::nullopt);
  for (int64_t i = 0; i < p->Size(); ++i) EXPECT_EQ(Length(p->WindowAt(i)), 3600);
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, HourlyNewYorkTransitions) {
  auto spring = Make(Spec(Cadence::kHourly, "2024-03-10", "2024-03-11", "America/New_York"));
  ASSERT_EQ(spring->Size(), 23);
  EXPECT_EQ(spring->WindowAt(0).start, Utc(1710046800));  // 2024-03-10T05:00:00Z
  EXPECT_EQ(spring->KeyAt(1), "2024-03-10-01:00");
  EXPECT_EQ(spring->KeyAt(2), "2024-03-10-03:00");
  EXPECT_EQ(spring->WindowAt(2).start, Utc(1710054000));  // 2024-03-10T07:00:00Z
  EXPECT_EQ(spring->IndexOf("2024-03-10-02:00"), std::nullopt);
  ExpectAllRoundTrip(*spring);

  auto fall = Make(Spec(Cadence::kHourly, "2024-11-03", "2024-11-04", "America/New_York"));
  ASSERT_EQ(fall->Size(), 25);
  EXPECT_EQ(fall->WindowAt(0).start, Utc(1730606400));  // 2024-11-03T04:00:00Z
  EXPECT_EQ(fall->KeyAt(1), "2024-11-03-01:00");         // 05:00Z, EDT
  EXPECT_EQ(fall->KeyAt(2), "2024-11-03-01:00-0500");    // 06:00Z, EST
  EXPECT_EQ(fall->WindowAt(2).start, Utc(1730613600));
  EXPECT_EQ(fall->KeyAt(3), "2024-11-03-02:00");
  EXPECT_EQ(fall->IndexOf("2024-11-03-01:00-0500"), 2);
  EXPECT_EQ(fall->IndexOf("2024-11-03-01:00-0400"), std::nullopt);
  for (int64_t i = 0; i < fall->Size(); ++i) EXPECT_EQ(Length(fall->WindowAt(i)), 3600);
  ExpectAllRoundTrip(*fall);
}

TEST(TimeWindowPartitionsTest, HourlyWithOffsetInFormatNeedsNoSuffix) {
  TimeWindowSpec s = Spec(Cadence::kHourly, "2024-10-27", "2024-10-28", "Europe/Vienna");
  s.format = "%Y-%m-%dT%H:%M%z";
  auto p = Make(s);
  EXPECT_EQ(p->KeyAt(2), "2024-10-27T02:00+0200");
  EXPECT_EQ(p->KeyAt(3), "2024-10-27T02:00+0100");
  EXPECT_EQ(p->IndexOf("2024-10-27T02:00+0100"), 3);
  EXPECT_EQ(p->IndexOf("2024-10-27T02:00+0100+0100"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-10-27T04:00+0200"), std::nullopt);  // 04:00 was +0100
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, HourlyMinuteOffset) {
  TimeWindowSpec s = Spec(Cadence::kHourly, "2024-10-27T00:10", "2024-10-28", "Europe/Vienna");
  s.minute_offset = 30;
  auto p = Make(s);
  EXPECT_EQ(p->KeyAt(0), "2024-10-27-00:30");
  EXPECT_EQ(p->WindowAt(0).start, Utc(1729980000 + 1800));
  EXPECT_EQ(p->KeyAt(2), "2024-10-27-02:30");
  EXPECT_EQ(p->KeyAt(3), "2024-10-27-02:30+0100");
  EXPECT_EQ(p->Size(), 24);  // the window starting 23:30 ends after the end
  EXPECT_EQ(p->IndexOf("2024-10-27-02:00"), std::nullopt);
  EXPECT_EQ(p->Describe(),
            "hourly at minute 30 from 2024-10-27T00:10 to 2024-10-28 in Europe/Vienna, "
            "24 partitions (2024-10-27-00:30 ... 2024-10-27-22:30)");
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, HourlyStartInsideGapMovesToNextHour) {
  auto p = Make(Spec(Cadence::kHourly, "2024-03-31T02:00", "2024-03-31T05:00", "Europe/Vienna"));
  ASSERT_EQ(p->Size(), 2);
  EXPECT_EQ(p->KeyAt(0), "2024-03-31-03:00");
  EXPECT_EQ(p->WindowAt(0).start, Utc(1711846800));
}

TEST(TimeWindowPartitionsTest, DailyViennaHas23And25HourDays) {
  auto p = Make(Spec(Cadence::kDaily, "2024-01-01", "2025-01-01", "Europe/Vienna"));
  ASSERT_EQ(p->Size(), 366);
  EXPECT_EQ(p->KeyAt(0), "2024-01-01");
  EXPECT_EQ(p->KeyAt(59), "2024-02-29");
  EXPECT_EQ(p->KeyAt(365), "2024-12-31");
  // 2024-03-31 is day 90 (31 + 29 + 30 days before it).
  EXPECT_EQ(p->KeyAt(90), "2024-03-31");
  EXPECT_EQ(p->WindowAt(90).start, Utc(1711839600));  // 2024-03-30T23:00:00Z
  EXPECT_EQ(p->WindowAt(90).end, Utc(1711922400));    // 2024-03-31T22:00:00Z
  EXPECT_EQ(Length(p->WindowAt(90)), 23 * 3600);
  EXPECT_EQ(p->KeyAt(300), "2024-10-27");
  EXPECT_EQ(p->WindowAt(300).start, Utc(1729980000));  // 2024-10-26T22:00:00Z
  EXPECT_EQ(p->WindowAt(300).end, Utc(1730070000));    // 2024-10-27T23:00:00Z
  EXPECT_EQ(Length(p->WindowAt(300)), 25 * 3600);
  EXPECT_EQ(Length(p->WindowAt(89)), 24 * 3600);
  EXPECT_EQ(Length(p->WindowAt(301)), 24 * 3600);
  EXPECT_EQ(p->IndexContaining(Utc(1711839600)), 90);
  EXPECT_EQ(p->IndexContaining(Utc(1711839599)), 89);
  EXPECT_EQ(p->IndexContaining(Utc(1730070000 - 1)), 300);
  EXPECT_EQ(p->IndexOf("2024-10-27"), 300);
  EXPECT_EQ(p->IndexOf("2025-01-01"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-02-30"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-1-01"), std::nullopt);
  EXPECT_EQ(p->Describe(),
            "daily from 2024-01-01 to 2025-01-01 in Europe/Vienna, 366 partitions "
            "(2024-01-01 ... 2024-12-31)");
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, DailyNewYorkHas23And25HourDays) {
  auto p = Make(Spec(Cadence::kDaily, "2024-01-01", "2025-01-01", "America/New_York"));
  // 2024-03-10 is day 69, 2024-11-03 is day 307.
  EXPECT_EQ(p->KeyAt(69), "2024-03-10");
  EXPECT_EQ(p->WindowAt(69).start, Utc(1710046800));  // 2024-03-10T05:00:00Z
  EXPECT_EQ(Length(p->WindowAt(69)), 23 * 3600);
  EXPECT_EQ(p->KeyAt(307), "2024-11-03");
  EXPECT_EQ(p->WindowAt(307).start, Utc(1730606400));  // 2024-11-03T04:00:00Z
  EXPECT_EQ(p->WindowAt(307).end, Utc(1730696400));    // 2024-11-04T05:00:00Z
  EXPECT_EQ(Length(p->WindowAt(307)), 25 * 3600);
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, DailyStartInGapAndOverlap) {
  TimeWindowSpec s = Spec(Cadence::kDaily, "2024-03-30", "2024-04-02T02:00", "Europe/Vienna");
  s.hour_offset = 2;
  auto p = Make(s);
  ASSERT_EQ(p->Size(), 3);
  EXPECT_EQ(p->KeyAt(1), "2024-03-31");
  // 02:00 does not exist on 2024-03-31: the window starts at 03:00 CEST (01:00Z).
  EXPECT_EQ(p->WindowAt(1).start, Utc(1711846800));
  EXPECT_EQ(Length(p->WindowAt(0)), 24 * 3600);  // 02:00 CET -> 03:00 CEST
  EXPECT_EQ(Length(p->WindowAt(1)), 23 * 3600);  // 03:00 CEST -> 02:00 CEST
  EXPECT_EQ(p->Describe(),
            "daily at 02:00 from 2024-03-30 to 2024-04-02T02:00 in Europe/Vienna, 3 partitions "
            "(2024-03-30 ... 2024-04-01)");

  TimeWindowSpec f = Spec(Cadence::kDaily, "2024-10-26", "2024-10-29", "Europe/Vienna");
  f.hour_offset = 2;
  f.minute_offset = 30;
  auto q = Make(f);
  EXPECT_EQ(q->Size(), 2);  // the 10-28 window ends 10-29 02:30, after the end
  // 02:30 happens twice on 2024-10-27: the first (00:30Z, CEST) is used.
  EXPECT_EQ(q->WindowAt(1).start, Utc(1729989000));
  EXPECT_EQ(Length(q->WindowAt(0)), 24 * 3600);
  EXPECT_EQ(Length(q->WindowAt(1)), 25 * 3600);
  ExpectAllRoundTrip(*q);
}

TEST(TimeWindowPartitionsTest, DailyHourOffsetAlignsTheFirstWindow) {
  TimeWindowSpec s = Spec(Cadence::kDaily, "2024-01-01T07:00", "2024-01-05T06:00");
  s.hour_offset = 6;
  auto p = Make(s);
  ASSERT_EQ(p->Size(), 3);  // 01-02, 01-03, 01-04 (06:00 to 06:00)
  EXPECT_EQ(p->KeyAt(0), "2024-01-02");
  EXPECT_EQ(p->WindowAt(0).start, Utc(1704067200 + 86400 + 6 * 3600));
  // With %H in the format the nominal hour is part of the key.
  s.format = "%Y-%m-%dT%H";
  auto q = Make(s);
  EXPECT_EQ(q->KeyAt(0), "2024-01-02T06");
  EXPECT_EQ(q->IndexOf("2024-01-02T06"), 0);
  EXPECT_EQ(q->IndexOf("2024-01-02T07"), std::nullopt);
}

TEST(TimeWindowPartitionsTest, DailyWithOffsetConversion) {
  TimeWindowSpec s = Spec(Cadence::kDaily, "2024-01-01", "2025-01-01", "Europe/Vienna");
  s.format = "%Y-%m-%d%z";
  auto p = Make(s);
  EXPECT_EQ(p->KeyAt(0), "2024-01-01+0100");
  EXPECT_EQ(p->KeyAt(182), "2024-07-01+0200");
  EXPECT_EQ(p->IndexOf("2024-07-01+0100"), std::nullopt);
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, LeapYears) {
  auto p2023 = Make(Spec(Cadence::kDaily, "2023-02-27", "2023-03-02"));
  ASSERT_EQ(p2023->Size(), 3);
  EXPECT_EQ(p2023->KeyAt(1), "2023-02-28");
  EXPECT_EQ(p2023->KeyAt(2), "2023-03-01");
  EXPECT_EQ(p2023->IndexOf("2023-02-29"), std::nullopt);
  auto p2100 = Make(Spec(Cadence::kDaily, "2100-02-28", "2100-03-02"));
  EXPECT_EQ(p2100->KeyAt(1), "2100-03-01");
  EXPECT_EQ(p2100->IndexOf("2100-02-29"), std::nullopt);
  auto p2000 = Make(Spec(Cadence::kDaily, "2000-02-28", "2000-03-02"));
  EXPECT_EQ(p2000->KeyAt(1), "2000-02-29");
  EXPECT_EQ(p2000->IndexOf("2000-02-29"), 1);
  auto p2024 = Make(Spec(Cadence::kHourly, "2024-02-29T22:00", "2024-03-01T02:00"));
  EXPECT_EQ(p2024->KeyAt(1), "2024-02-29-23:00");
  EXPECT_EQ(p2024->KeyAt(2), "2024-03-01-00:00");
}

TEST(TimeWindowPartitionsTest, WeeklyStartsOnEachDayOffset) {
  // 2024-01-01 is a Monday; day_offset 0 = Sunday.
  const char* first[] = {"2024-01-07", "2024-01-01", "2024-01-02", "2024-01-03",
                         "2024-01-04", "2024-01-05", "2024-01-06"};
  const char* second[] = {"2024-01-14", "2024-01-08", "2024-01-09", "2024-01-10",
                          "2024-01-11", "2024-01-12", "2024-01-13"};
  for (int d = 0; d < 7; ++d) {
    SCOPED_TRACE(d);
    TimeWindowSpec s = Spec(Cadence::kWeekly, "2024-01-01", "2025-01-01", "Europe/Vienna");
    s.day_offset = d;
    auto p = Make(s);
    EXPECT_EQ(p->KeyAt(0), first[d]);
    EXPECT_EQ(p->KeyAt(1), second[d]);
    const int64_t first_utc = 1704067200 - 3600 + (d == 0 ? 6 : d - 1) * 86400;
    EXPECT_EQ(p->WindowAt(0).start, Utc(first_utc));
    EXPECT_EQ(Length(p->WindowAt(0)), 7 * 86400);
    EXPECT_EQ(p->IndexOf(second[d]), 1);
    EXPECT_EQ(p->IndexOf(first[(d + 1) % 7]), std::nullopt);  // not a week start
    ExpectAllRoundTrip(*p);
  }
  TimeWindowSpec s = Spec(Cadence::kWeekly, "2024-01-01", "2025-01-01", "Europe/Vienna");
  s.day_offset = 0;
  auto sundays = Make(s);
  // Weeks start on Sundays from 01-07; the last complete one starts 12-22.
  EXPECT_EQ(sundays->Size(), 51);
  // The week containing the spring-forward Sunday 2024-03-31 is an hour short.
  auto idx = sundays->IndexOf("2024-03-31");
  ASSERT_TRUE(idx.has_value());
  EXPECT_EQ(*idx, 12);
  EXPECT_EQ(Length(sundays->WindowAt(*idx)), 7 * 86400 - 3600);
  EXPECT_EQ(sundays->Describe(),
            "weekly on Sunday from 2024-01-01 to 2025-01-01 in Europe/Vienna, 51 partitions "
            "(2024-01-07 ... 2024-12-22)");
}

TEST(TimeWindowPartitionsTest, MonthlyMonthEnds) {
  auto p = Make(Spec(Cadence::kMonthly, "2024-01-01", "2025-01-01"));
  ASSERT_EQ(p->Size(), 12);
  EXPECT_EQ(p->KeyAt(0), "2024-01-01");
  EXPECT_EQ(p->KeyAt(1), "2024-02-01");
  EXPECT_EQ(Length(p->WindowAt(0)), 31 * 86400);  // January 31 -> February 1
  EXPECT_EQ(Length(p->WindowAt(1)), 29 * 86400);  // leap February
  EXPECT_EQ(Length(p->WindowAt(3)), 30 * 86400);  // April
  EXPECT_EQ(p->KeyAt(12), "2025-01-01");
  EXPECT_EQ(Length(p->WindowAt(13)), 28 * 86400);  // February 2025
  EXPECT_EQ(p->IndexOf("2024-12-01"), 11);
  EXPECT_EQ(p->IndexOf("2024-12-02"), std::nullopt);
  EXPECT_EQ(p->IndexOf("2024-13-01"), std::nullopt);
  EXPECT_EQ(p->IndexContaining(Utc(1704067200 + 31 * 86400 - 1)), 0);
  EXPECT_EQ(p->IndexContaining(Utc(1704067200 + 31 * 86400)), 1);

  // A start on January 31 begins with the February window.
  auto jan31 = Make(Spec(Cadence::kMonthly, "2024-01-31", "2024-06-01"));
  ASSERT_EQ(jan31->Size(), 4);
  EXPECT_EQ(jan31->KeyAt(0), "2024-02-01");
  EXPECT_EQ(jan31->KeyAt(3), "2024-05-01");

  // Across years and with a month-only format.
  TimeWindowSpec ym = Spec(Cadence::kMonthly, "2023-11-01", "2024-03-01", "Europe/Vienna");
  ym.format = "%Y-%m";
  auto q = Make(ym);
  ASSERT_EQ(q->Size(), 4);
  EXPECT_EQ(q->KeyAt(2), "2024-01");
  EXPECT_EQ(q->IndexOf("2024-02"), 3);
  EXPECT_EQ(q->IndexOf("2024-03"), std::nullopt);
  EXPECT_EQ(Length(q->WindowAt(1)), 31 * 86400);  // December, no DST change
  EXPECT_EQ(Length(q->WindowAt(4)), 31 * 86400 - 3600);  // March 2024 loses an hour
  ExpectAllRoundTrip(*q);
}

TEST(TimeWindowPartitionsTest, MonthlyDayOffset) {
  TimeWindowSpec s = Spec(Cadence::kMonthly, "2024-01-20", "2025-01-01");
  s.day_offset = 15;
  s.hour_offset = 3;
  auto p = Make(s);
  EXPECT_EQ(p->KeyAt(0), "2024-02-15");
  EXPECT_EQ(p->WindowAt(0).start, Utc(1704067200 + (31 + 14) * 86400 + 3 * 3600));
  EXPECT_EQ(Length(p->WindowAt(0)), 29 * 86400);  // Feb 15 -> Mar 15 in a leap year
  EXPECT_EQ(p->Size(), 10);                        // Feb 15 ... Nov 15 windows end by Dec 15
  EXPECT_EQ(p->KeyAt(9), "2024-11-15");
  EXPECT_EQ(p->IndexOf("2024-03-15"), 1);
  EXPECT_EQ(p->IndexOf("2024-03-01"), std::nullopt);
  // A moment on the 14th belongs to the previous month's window.
  EXPECT_EQ(p->IndexContaining(Utc(1704067200 + (31 + 29 + 13) * 86400)), 0);
  EXPECT_EQ(p->Describe(),
            "monthly on day 15 at 03:00 from 2024-01-20 to 2025-01-01 in UTC, 10 partitions "
            "(2024-02-15 ... 2024-11-15)");
  ExpectAllRoundTrip(*p);

  TimeWindowSpec zero = Spec(Cadence::kMonthly, "2024-01-01", "2024-03-01");
  zero.day_offset = 0;  // same as 1
  EXPECT_EQ(Make(zero)->KeyAt(1), "2024-02-01");
  TimeWindowSpec d28 = Spec(Cadence::kMonthly, "2023-01-01", "2024-01-01");
  d28.day_offset = 28;
  auto p28 = Make(d28);
  EXPECT_EQ(p28->KeyAt(1), "2023-02-28");
  EXPECT_EQ(Length(p28->WindowAt(1)), 28 * 86400);
}

TEST(TimeWindowPartitionsTest, UpToNowCountsOnlyEndedWindows) {
  const TimeWindowSpec daily = Spec(Cadence::kDaily, "2024-01-01", std::nullopt);
  // 2024-01-10T12:00:00Z: January 1-9 have ended, the 10th has not.
  EXPECT_EQ(Make(daily, Utc(1704067200 + 9 * 86400 + 12 * 3600))->Size(), 9);
  EXPECT_EQ(Make(daily, Utc(1704067200 + 9 * 86400))->Size(), 9);
  EXPECT_EQ(Make(daily, Utc(1704067200 + 9 * 86400 - 1))->Size(), 8);
  EXPECT_EQ(Make(daily, Utc(1704067200 - 1))->Size(), 0);
  EXPECT_EQ(Make(daily, Utc(1704067200 + 86400 - 1))->Size(), 0);
  auto p = Make(daily, Utc(1704067200 + 86400));
  EXPECT_EQ(p->Size(), 1);
  EXPECT_EQ(p->IndexOf("2024-01-02"), std::nullopt);
  EXPECT_EQ(p->Describe(), "daily from 2024-01-01 in UTC, 1 partition so far (2024-01-01)");

  // Vienna: January 9 ends at 2024-01-09T23:00:00Z.
  const TimeWindowSpec vienna = Spec(Cadence::kDaily, "2024-01-01", std::nullopt, "Europe/Vienna");
  EXPECT_EQ(Make(vienna, Utc(1704067200 + 9 * 86400 - 3600))->Size(), 9);
  EXPECT_EQ(Make(vienna, Utc(1704067200 + 9 * 86400 - 3601))->Size(), 8);

  const TimeWindowSpec hourly = Spec(Cadence::kHourly, "2024-01-01", std::nullopt);
  EXPECT_EQ(Make(hourly, Utc(1704067200 + 5 * 3600 + 1800))->Size(), 5);
  // A "now" past year 9999 stops at 9999-01-01 (keys have four-digit years).
  auto last = Make(Spec(Cadence::kDaily, "9998-12-01", std::nullopt),
                   TimePoint(sys_days(std::chrono::year(20000) / 1 / 1)));
  EXPECT_EQ(last->Size(), 31);
  EXPECT_EQ(last->KeyAt(30), "9998-12-31");
  const TimeWindowSpec monthly = Spec(Cadence::kMonthly, "2024-01-01", std::nullopt);
  EXPECT_EQ(Make(monthly, Utc(1704067200 + 60 * 86400))->Size(), 2);  // 2024-03-01 exactly
}

TEST(TimeWindowPartitionsTest, MillionHourlyWindowsInUtcRoundTrip) {
  // 2000-01-01T00:00:00Z plus one million hours; "now" is exactly the end.
  const TimePoint start = Utc(946684800);
  auto p = Make(Spec(Cadence::kHourly, "2000-01-01", std::nullopt), start + 1000000h);
  ASSERT_EQ(p->Size(), 1000000);
  EXPECT_EQ(p->KeyAt(999999), "2114-01-29-15:00");
  EXPECT_EQ(p->WindowAt(999999).start, start + 999999h);
  ExpectAllRoundTrip(*p);
}

TEST(TimeWindowPartitionsTest, MillionHourlyWindowsInViennaRoundTrip) {
  // Local 2000-01-01T00:00 in Vienna is 1999-12-31T23:00:00Z.
  const TimePoint start = Utc(946684800 - 3600);
  auto p = Make(Spec(Cadence::kHourly, "2000-01-01", std::nullopt, "Europe/Vienna"),
                start + 1000000h);
  ASSERT_EQ(p->Size(), 1000000);
  EXPECT_EQ(p->KeyAt(0), "2000-01-01-00:00");
  EXPECT_EQ(p->KeyAt(999999), "2114-01-29-15:00");
  // A sample everywhere, plus every hour of 2024 (both DST changes).
  for (int64_t i = 0; i < p->Size(); i += 997) ASSERT_EQ(p->IndexOf(p->KeyAt(i)), i);
  const int64_t first2024 = *p->IndexOf("2024-01-01-00:00");
  EXPECT_EQ(p->WindowAt(first2024).start, Utc(1704067200 - 3600));
  std::unordered_set<std::string> seen;
  for (int64_t i = first2024; i < first2024 + 366 * 24; ++i) {
    const std::string key = p->KeyAt(i);
    ASSERT_EQ(p->IndexOf(key), i) << key;
    ASSERT_TRUE(seen.insert(key).second) << "duplicate key " << key;
    ASSERT_EQ(p->WindowAt(i).start, Utc(1704067200 - 3600) + (i - first2024) * 1h);
  }
  EXPECT_TRUE(seen.count("2024-10-27-02:00+0100"));
  EXPECT_FALSE(seen.count("2024-03-31-02:00"));
}

// IndexOf accepts exactly the keys KeyAt makes: try many near-miss keys
// around both Vienna transitions and check every accepted one.
TEST(TimeWindowPartitionsTest, IndexOfAcceptsOnlyCanonicalKeys) {
  for (const char* format : {"", "%Y-%m-%dT%H:%M%z", "%Y%m%d%H"}) {
    SCOPED_TRACE(format);
    TimeWindowSpec s = Spec(Cadence::kHourly, "2024-03-30", "2024-10-29", "Europe/Vienna");
    s.format = format;
    auto p = Make(s);
    auto fmt = *time::KeyFormat::Compile(p->spec().format);
    std::unordered_set<std::string> tried;  // formats without %M make duplicates
    int accepted = 0;
    for (int day : {30, 31}) {
      for (int month : {3, 10}) {
        for (int hour = 0; hour < 24; ++hour) {
          for (int minute : {0, 30}) {
            for (std::optional<int> off : {std::optional<int>(), std::optional<int>(3600),
                                           std::optional<int>(7200), std::optional<int>(-3600)}) {
              time::KeyFields k;
              k.year = 2024;
              k.month = month;
              k.day = month == 10 ? day - 3 : day;  // 10-27/10-28 and 03-30/03-31
              k.hour = hour;
              k.minute = minute;
              k.offset_seconds = off;
              std::string key;
              fmt.Format(k, &key);
              if (off.has_value() && !fmt.has('z')) {
                key += (*off < 0 ? "-" : "+") + std::string(*off == 7200 ? "0200" : "0100");
              }
              if (!tried.insert(key).second) continue;
              std::optional<int64_t> idx = p->IndexOf(key);
              if (!idx.has_value()) continue;
              ++accepted;
              ASSERT_EQ(p->KeyAt(*idx), key);
            }
          }
        }
      }
    }
    // 03-30: 24 hours, 03-31: 23, 10-27: 25, 10-28: 24 -> 96 windows.
    EXPECT_EQ(accepted, 96) << "of " << tried.size();
  }
}

TEST(TimeWindowPartitionsTest, CreateErrors) {
  EXPECT_EQ(CreateError(Spec(Cadence::kDaily, "2024-01-02", "2024-01-01")),
            "end 2024-01-01T00:00:00 is not after start 2024-01-02T00:00:00");
  EXPECT_EQ(CreateError(Spec(Cadence::kDaily, "2024-01-02", "2024-01-02")),
            "end 2024-01-02T00:00:00 is not after start 2024-01-02T00:00:00");
  EXPECT_EQ(CreateError(Spec(Cadence::kDaily, "2024-01-01", std::nullopt, "Europe/Viena")),
            "unknown time zone 'Europe/Viena'; did you mean 'Europe/Vienna'?");

  TimeWindowSpec s = Spec(Cadence::kHourly, "2024-01-01", std::nullopt);
  s.minute_offset = 60;
  EXPECT_EQ(CreateError(s), "minute_offset 60 out of range 0-59");
  s.minute_offset = -1;
  EXPECT_EQ(CreateError(s), "minute_offset -1 out of range 0-59");
  s.minute_offset = 0;
  s.hour_offset = 1;
  EXPECT_EQ(CreateError(s),
            "hour_offset 1 does not apply to hourly windows (only minute_offset does)");

  TimeWindowSpec d = Spec(Cadence::kDaily, "2024-01-01", std::nullopt);
  d.hour_offset = 24;
  EXPECT_EQ(CreateError(d), "hour_offset 24 out of range 0-23");
  d.hour_offset = 0;
  d.day_offset = 2;
  EXPECT_EQ(CreateError(d), "day_offset 2 does not apply to daily windows (only to weekly and "
                            "monthly)");

  TimeWindowSpec w = Spec(Cadence::kWeekly, "2024-01-01", std::nullopt);
  w.day_offset = 7;
  EXPECT_EQ(CreateError(w), "day_offset 7 out of range 0-6 for weekly windows (0 = Sunday)");
  TimeWindowSpec m = Spec(Cadence::kMonthly, "2024-01-01", std::nullopt);
  m.day_offset = 29;
  EXPECT_EQ(CreateError(m), "day_offset 29 out of range 1-28 for monthly windows");

  TimeWindowSpec f = Spec(Cadence::kDaily, "2024-01-01", std::nullopt);
  f.format = "%Y-%m";
  EXPECT_EQ(CreateError(f), "key format '%Y-%m' cannot identify daily windows: it lacks %d");
  f.format = "%Y|%m|%d";
  EXPECT_EQ(CreateError(f),
            "key format '%Y|%m|%d' makes invalid keys: partition key '1970|01|01' contains '|', "
            "which separates the dimensions of multi-partition keys");
  f.format = " %Y-%m-%d";
  EXPECT_NE(CreateError(f).find("leading or trailing space"), std::string::npos);
  f.format = "%Y-%m-%e";
  EXPECT_EQ(CreateError(f),
            "key format '%Y-%m-%e': unsupported conversion '%e' at offset 6; "
            "supported: %Y %m %d %H %M %S %z %%");
}

}  // namespace
}  // namespace arbiter::definitions
