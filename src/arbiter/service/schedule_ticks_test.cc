// Which ticks fire, in simulated time: on time, after downtime under each
// catch-up policy, and on the DST days of Europe/Vienna and America/New_York
// (CronExpression's rules; the instants below are worked out by hand:
// Vienna 2024-03-31 02:00 CET -> 03:00 CEST at 01:00Z, 2024-10-27 03:00 CEST
// -> 02:00 CET at 01:00Z; New York 2024-03-10 02:00 EST -> 03:00 EDT at 07:00Z,
// 2024-11-03 02:00 EDT -> 01:00 EST at 06:00Z).
#include "arbiter/service/schedule_ticks.h"

#include <gtest/gtest.h>

#include <sstream>

#include "arbiter/service/service_log.h"

namespace arbiter::service {
namespace {

using Catchup = definitions::ScheduleDef::Catchup;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint At(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  std::chrono::sys_days day{std::chrono::year{y} / std::chrono::month{mo} / std::chrono::day{d}};
  return TimePoint(day) + hours(h) + minutes(mi) + seconds(s);
}

std::vector<std::string> Isos(const std::vector<TimePoint>& ts) {
  std::vector<std::string> out;
  for (TimePoint t : ts) out.push_back(Iso8601(t));
  return out;
}

struct Fixture {
  time::CronExpression cron;
  std::shared_ptr<const time::TimeZone> zone;
  DueTicks Due(Catchup c, TimePoint after, TimePoint now) const {
    return ComputeDueTicks(cron, *zone, c, after, now);
  }
};

Fixture Make(const char* cron, const char* zone) {
  return {*time::CronExpression::Parse(cron), *time::LookupTimeZone(zone)};
}

TEST(ScheduleTicksTest, NothingDueBeforeTheTickAndExactlyOneAtIt) {
  Fixture f = Make("0 3 * * *", "UTC");
  DueTicks before = f.Due(Catchup::kLatest, At(2024, 5, 1, 3), At(2024, 5, 2, 2, 59, 59));
  EXPECT_TRUE(before.fire.empty());
  ASSERT_TRUE(before.next);
  EXPECT_EQ(Iso8601(*before.next), "2024-05-02T03:00:00Z");
  DueTicks at = f.Due(Catchup::kLatest, At(2024, 5, 1, 3), At(2024, 5, 2, 3));
  EXPECT_EQ(Isos(at.fire), std::vector<std::string>{"2024-05-02T03:00:00Z"});
  EXPECT_EQ(at.skipped, 0);
  EXPECT_EQ(Iso8601(*at.next), "2024-05-03T03:00:00Z");
  // Once recorded (after = the tick), the same instant is not due again.
  EXPECT_TRUE(f.Due(Catchup::kLatest, At(2024, 5, 2, 3), At(2024, 5, 2, 3, 0, 30)).fire.empty());
}

TEST(ScheduleTicksTest, CatchupAfterDowntime) {
  Fixture f = Make("0 * * * *", "UTC");
  const TimePoint last = At(2024, 5, 1, 10);
  const TimePoint now = At(2024, 5, 1, 14, 20);  // down from 10:30 to 14:20: 11..14 missed
  DueTicks all = f.Due(Catchup::kAll, last, now);
  EXPECT_EQ(Isos(all.fire), (std::vector<std::string>{"2024-05-01T11:00:00Z",
                                                      "2024-05-01T12:00:00Z",
                                                      "2024-05-01T13:00:00Z",
                                                      "2024-05-01T14:00:00Z"}));
  EXPECT_EQ(all.skipped, 0);

  DueTicks latest = f.Due(Catchup::kLatest, last, now);
  EXPECT_EQ(Isos(latest.fire), std::vector<std::string>{"2024-05-01T14:00:00Z"});
  EXPECT_EQ(latest.skipped, 3);
  EXPECT_EQ(Iso8601(*latest.oldest_skipped), "2024-05-01T11:00:00Z");
  EXPECT_EQ(Iso8601(*latest.newest_skipped), "2024-05-01T13:00:00Z");

  DueTicks none = f.Due(Catchup::kNone, last, now);
  EXPECT_TRUE(none.fire.empty());
  EXPECT_EQ(none.skipped, 4);
  EXPECT_EQ(Iso8601(*none.newest_skipped), "2024-05-01T14:00:00Z");
  EXPECT_EQ(Iso8601(*none.next), "2024-05-01T15:00:00Z");

  // catchup: none still runs a tick that is only a little late (the loop's own delay).
  DueTicks on_time = f.Due(Catchup::kNone, last, At(2024, 5, 1, 11, 0, 2));
  EXPECT_EQ(Isos(on_time.fire), std::vector<std::string>{"2024-05-01T11:00:00Z"});
}

TEST(ScheduleTicksTest, AVeryLongDowntimeIsBoundedAndKeepsTheNewestTick) {
  Fixture f = Make("* * * * *", "UTC");
  // Ten days of minutes: 14,400 due, far past the cap.
  DueTicks all = f.Due(Catchup::kAll, At(2024, 5, 1), At(2024, 5, 11));
  ASSERT_EQ(all.fire.size(), static_cast<size_t>(kMaxTicksPerEvaluation) + 1);
  EXPECT_EQ(Iso8601(all.fire.back()), "2024-05-11T00:00:00Z");
  EXPECT_EQ(all.skipped, 14400 - kMaxTicksPerEvaluation - 1);
  DueTicks latest = f.Due(Catchup::kLatest, At(2024, 5, 1), At(2024, 5, 11));
  EXPECT_EQ(Isos(latest.fire), std::vector<std::string>{"2024-05-11T00:00:00Z"});
  EXPECT_EQ(latest.skipped, 14399);
}

TEST(ScheduleTicksTest, ViennaSpringForwardFiresOnceAfterTheGap) {
  // 02:30 does not exist on 2024-03-31: the tick fires once, at 03:00 CEST = 01:00Z.
  Fixture f = Make("30 2 * * *", "Europe/Vienna");
  DueTicks d = f.Due(Catchup::kAll, At(2024, 3, 30, 1, 30), At(2024, 4, 1, 12));
  EXPECT_EQ(Isos(d.fire), (std::vector<std::string>{"2024-03-31T01:00:00Z",
                                                    "2024-04-01T00:30:00Z"}));
}

TEST(ScheduleTicksTest, ViennaFallBackFiresAFixedHourOnceAndAnHourlyScheduleTwice) {
  // 02:30 occurs twice on 2024-10-27 (CEST 00:30Z, CET 01:30Z): fires at the first only.
  Fixture daily = Make("30 2 * * *", "Europe/Vienna");
  DueTicks d = daily.Due(Catchup::kAll, At(2024, 10, 26, 12), At(2024, 10, 27, 12));
  EXPECT_EQ(Isos(d.fire), std::vector<std::string>{"2024-10-27T00:30:00Z"});
  // Hourly follows real time: both 02:30s fire.
  Fixture hourly = Make("30 * * * *", "Europe/Vienna");
  DueTicks h = hourly.Due(Catchup::kAll, At(2024, 10, 27, 0), At(2024, 10, 27, 2));
  EXPECT_EQ(Isos(h.fire), (std::vector<std::string>{"2024-10-27T00:30:00Z",
                                                    "2024-10-27T01:30:00Z"}));
}

TEST(ScheduleTicksTest, NewYorkBothTransitions) {
  Fixture f = Make("0 2 * * *", "America/New_York");
  // Spring: 02:00 EST does not exist on 2024-03-10; fires at 03:00 EDT = 07:00Z.
  DueTicks spring = f.Due(Catchup::kAll, At(2024, 3, 9, 12), At(2024, 3, 10, 12));
  EXPECT_EQ(Isos(spring.fire), std::vector<std::string>{"2024-03-10T07:00:00Z"});
  // Fall: 02:00 local on 2024-11-03 is after the repeated hour: 02:00 EST = 07:00Z.
  DueTicks fall = f.Due(Catchup::kAll, At(2024, 11, 2, 12), At(2024, 11, 3, 12));
  EXPECT_EQ(Isos(fall.fire), std::vector<std::string>{"2024-11-03T07:00:00Z"});
  // 01:30 repeats on that day (EDT 05:30Z, EST 06:30Z): a fixed hour fires once.
  Fixture early = Make("30 1 * * *", "America/New_York");
  DueTicks rep = early.Due(Catchup::kAll, At(2024, 11, 2, 12), At(2024, 11, 3, 12));
  EXPECT_EQ(Isos(rep.fire), std::vector<std::string>{"2024-11-03T05:30:00Z"});
}

// The service log takes what jobs and platforms said, which need not be UTF-8.
TEST(ServiceLogTest, InvalidUtf8IsReplacedNotThrown) {
  FakeClock clock(At(2026, 1, 5, 9, 30));
  for (bool text : {false, true}) {
    std::ostringstream out;
    ServiceLog log(&out, text, &clock);
    log.Event("run.ended", {{"reason", std::string("bad \xff byte")}}, "warning");
    EXPECT_NE(out.str().find("bad \xef\xbf\xbd byte"), std::string::npos) << out.str();
    EXPECT_NE(out.str().find(text ? "2026-01-05T09:30:00Z warning: run.ended" : "\"run.ended\""),
              std::string::npos)
        << out.str();
  }
}

TEST(ScheduleTicksTest, AnExpressionThatNeverFiresHasNoNextTick) {
  Fixture f = Make("0 0 30 2 *", "UTC");
  DueTicks d = f.Due(Catchup::kAll, At(2024, 1, 1), At(2024, 6, 1));
  EXPECT_TRUE(d.fire.empty());
  EXPECT_FALSE(d.next);
}

}  // namespace
}  // namespace arbiter::service
