// Tests for TimeZone: lookup errors, DST transitions in Europe/Vienna and
// America/New_York with hand-computed instants, and a cross-check of the
// transition table against the date/tz library for every hour of a year.
#include "arbiter/time/time_zone.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace arbiter::time {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

TimePoint Utc(int64_t unix_seconds) { return TimePoint(seconds(unix_seconds)); }
LocalSeconds Local(std::chrono::year_month_day ymd, int h, int m = 0) {
  return LocalSeconds(std::chrono::local_days(ymd).time_since_epoch() + hours(h) + minutes(m));
}
std::shared_ptr<const TimeZone> Zone(std::string_view name) {
  auto z = LookupTimeZone(name);
  EXPECT_TRUE(z.ok()) << z.status().ToString();
  return z.ok() ? *z : UtcTimeZone();
}

using namespace std::chrono_literals;

// Hand-checked instants (date -u -d ... +%s).
constexpr int64_t kVienna20240331Switch = 1711846800;  // 2024-03-31T01:00:00Z
constexpr int64_t kVienna20241027Switch = 1729990800;  // 2024-10-27T01:00:00Z
constexpr int64_t kNewYork20240310Switch = 1710054000;  // 2024-03-10T07:00:00Z
constexpr int64_t kNewYork20241103Switch = 1730613600;  // 2024-11-03T06:00:00Z

TEST(TimeZoneTest, UtcHasZeroOffset) {
  auto utc = Zone("UTC");
  EXPECT_EQ(utc->name(), "UTC");
  EXPECT_EQ(utc->OffsetAt(Utc(kVienna20240331Switch)), 0s);
  EXPECT_EQ(utc->ToLocal(Utc(1000)).time_since_epoch(), 1000s);
  LocalToUtc r = utc->ToUtc(LocalSeconds(1000s));
  EXPECT_EQ(r.utc, Utc(1000));
  EXPECT_FALSE(r.ambiguous);
  EXPECT_FALSE(r.nonexistent);
  EXPECT_FALSE(utc->IsRepeatedLocal(Utc(1000)));
}

TEST(TimeZoneTest, UnknownZoneSuggestsClosestName) {
  auto z = LookupTimeZone("Europe/Viena");
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(z.status().message(),
            "unknown time zone 'Europe/Viena'; did you mean 'Europe/Vienna'?");
}

TEST(TimeZoneTest, UnknownZoneWithoutCloseMatch) {
  auto z = LookupTimeZone("Nowhere/Atlantis-Underwater");
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().message(), "unknown time zone 'Nowhere/Atlantis-Underwater'");
  EXPECT_FALSE(LookupTimeZone("").ok());
}

TEST(TimeZoneTest, KnownNamesAreSortedAndSkipCopies) {
  const auto& names = KnownTimeZoneNames();
  ASSERT_GT(names.size(), 300u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_TRUE(std::binary_search(names.begin(), names.end(), "Europe/Vienna"));
  EXPECT_TRUE(std::binary_search(names.begin(), names.end(), "UTC"));
  EXPECT_FALSE(std::binary_search(names.begin(), names.end(), "posix/Europe/Vienna"));
}

TEST(TimeZoneTest, LookupIsCachedAndThreadSafe) {
  auto a = Zone("Asia/Tokyo");
  std::vector<std::shared_ptr<const TimeZone>> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&got, i] { got[i] = *LookupTimeZone("Asia/Tokyo"); });
  }
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g.get(), a.get());
  EXPECT_EQ(a->OffsetAt(Utc(0)), 9h);
}

TEST(TimeZoneTest, ViennaSpringForward) {
  auto z = Zone("Europe/Vienna");
  const TimePoint sw = Utc(kVienna20240331Switch);
  EXPECT_EQ(sw, std::chrono::sys_days(2024y / 3 / 31) + 1h);
  EXPECT_EQ(z->OffsetAt(sw - 1s), 1h);
  EXPECT_EQ(z->OffsetAt(sw), 2h);
  EXPECT_EQ(z->ToLocal(sw - 1s), Local(2024y / 3 / 31, 1, 59) + 59s);
  EXPECT_EQ(z->ToLocal(sw), Local(2024y / 3 / 31, 3));

  // 02:30 does not exist: resolves to the first instant after the gap.
  LocalToUtc gap = z->ToUtc(Local(2024y / 3 / 31, 2, 30));
  EXPECT_TRUE(gap.nonexistent);
  EXPECT_FALSE(gap.ambiguous);
  EXPECT_EQ(gap.utc, sw);
  // 01:59 and 03:00 are unique.
  LocalToUtc before = z->ToUtc(Local(2024y / 3 / 31, 1, 59));
  EXPECT_FALSE(before.nonexistent);
  EXPECT_EQ(before.utc, sw - 60s);
  EXPECT_EQ(z->ToUtc(Local(2024y / 3 / 31, 3)).utc, sw);
}

TEST(TimeZoneTest, ViennaFallBack) {
  auto z = Zone("Europe/Vienna");
  const TimePoint sw = Utc(kVienna20241027Switch);
  EXPECT_EQ(sw, std::chrono::sys_days(2024y / 10 / 27) + 1h);
  EXPECT_EQ(z->OffsetAt(sw - 1s), 2h);
  EXPECT_EQ(z->OffsetAt(sw), 1h);
  // 02:30 local happens at 00:30Z (CEST) and again at 01:30Z (CET).
  EXPECT_EQ(z->ToLocal(sw - 30min), Local(2024y / 10 / 27, 2, 30));
  EXPECT_EQ(z->ToLocal(sw + 30min), Local(2024y / 10 / 27, 2, 30));
  LocalToUtc r = z->ToUtc(Local(2024y / 10 / 27, 2, 30));
  EXPECT_TRUE(r.ambiguous);
  EXPECT_FALSE(r.nonexistent);
  EXPECT_EQ(r.utc, sw - 30min);  // earliest
  EXPECT_FALSE(z->IsRepeatedLocal(sw - 30min));
  EXPECT_TRUE(z->IsRepeatedLocal(sw));
  EXPECT_TRUE(z->IsRepeatedLocal(sw + 59min + 59s));
  EXPECT_FALSE(z->IsRepeatedLocal(sw + 1h));  // 03:00 CET happens once
  EXPECT_FALSE(z->ToUtc(Local(2024y / 10 / 27, 3)).ambiguous);
  EXPECT_EQ(z->ToUtc(Local(2024y / 10 / 27, 3)).utc, sw + 1h);
}

TEST(TimeZoneTest, NewYorkTransitions) {
  auto z = Zone("America/New_York");
  const TimePoint spring = Utc(kNewYork20240310Switch);
  EXPECT_EQ(spring, std::chrono::sys_days(2024y / 3 / 10) + 7h);
  EXPECT_EQ(z->OffsetAt(spring - 1s), -5h);
  EXPECT_EQ(z->OffsetAt(spring), -4h);
  LocalToUtc gap = z->ToUtc(Local(2024y / 3 / 10, 2, 15));
  EXPECT_TRUE(gap.nonexistent);
  EXPECT_EQ(gap.utc, spring);

  const TimePoint fall = Utc(kNewYork20241103Switch);
  EXPECT_EQ(fall, std::chrono::sys_days(2024y / 11 / 3) + 6h);
  EXPECT_EQ(z->OffsetAt(fall - 1s), -4h);
  EXPECT_EQ(z->OffsetAt(fall), -5h);
  // 01:00 local: 05:00Z (EDT), then 06:00Z (EST).
  LocalToUtc amb = z->ToUtc(Local(2024y / 11 / 3, 1));
  EXPECT_TRUE(amb.ambiguous);
  EXPECT_EQ(amb.utc, fall - 1h);
  EXPECT_TRUE(z->IsRepeatedLocal(fall));
  EXPECT_FALSE(z->IsRepeatedLocal(fall - 1h));
}

// The table must agree with the tz library itself, for every hour (and the
// half hours, to hit gaps of 30-minute-shift zones).
TEST(TimeZoneTest, AgreesWithDateLibraryEveryHalfHour) {
  for (const char* name : {"Europe/Vienna", "America/New_York", "Australia/Sydney",
                           "Australia/Lord_Howe", "Asia/Kathmandu", "America/Sao_Paulo",
                           "Europe/London", "Pacific/Chatham"}) {
    SCOPED_TRACE(name);
    auto z = Zone(name);
    const date::time_zone* ref = date::locate_zone(name);
    const TimePoint begin = std::chrono::sys_days(2023y / 1 / 1);
    const TimePoint end = std::chrono::sys_days(2025y / 1 / 1);
    for (TimePoint t = begin; t < end; t += 30min) {
      ASSERT_EQ(z->OffsetAt(t), ref->get_info(t).offset) << t.time_since_epoch().count();
      LocalSeconds l(t.time_since_epoch());  // the same digits read as local time
      date::local_info li = ref->get_info(date::local_seconds(l.time_since_epoch()));
      LocalToUtc r = z->ToUtc(l);
      ASSERT_EQ(r.nonexistent, li.result == date::local_info::nonexistent);
      ASSERT_EQ(r.ambiguous, li.result == date::local_info::ambiguous);
      if (li.result == date::local_info::nonexistent) {
        ASSERT_EQ(r.utc, li.second.begin);
      } else {
        ASSERT_EQ(r.utc, TimePoint(l.time_since_epoch() - li.first.offset));
      }
      bool repeated = ref->get_info(t - 3h).offset > ref->get_info(t).offset &&
                      ref->get_info(date::local_seconds(z->ToLocal(t).time_since_epoch()))
                              .result == date::local_info::ambiguous;
      ASSERT_EQ(z->IsRepeatedLocal(t), repeated) << t.time_since_epoch().count();
    }
  }
}

// Every transition the tz library knows between 1900 and 2037, probed one
// second before, at, and in the middle of each interval.
TEST(TimeZoneTest, AgreesWithDateLibraryAtEveryTransition) {
  for (const char* name : {"Europe/Vienna", "America/New_York", "Australia/Lord_Howe",
                           "Asia/Kathmandu", "Europe/Dublin", "Africa/Casablanca",
                           "America/Santiago", "Pacific/Apia"}) {
    SCOPED_TRACE(name);
    auto z = Zone(name);
    const date::time_zone* ref = date::locate_zone(name);
    TimePoint t = std::chrono::sys_days(1900y / 1 / 1);
    int transitions = 0;
    while (t < std::chrono::sys_days(2037y / 12 / 31)) {
      const date::sys_info info = ref->get_info(t);
      if (info.end >= std::chrono::sys_days(2037y / 12 / 31)) break;
      const TimePoint next = TimePoint(info.end);
      ASSERT_EQ(z->OffsetAt(next - 1s), info.offset);
      ASSERT_EQ(z->OffsetAt(next), ref->get_info(next).offset);
      ASSERT_EQ(z->OffsetAt(t + (next - t) / 2), info.offset);
      const UtcInfo ui = z->InfoAt(next);
      ASSERT_EQ(ui.offset, ref->get_info(next).offset);
      ASSERT_EQ(ui.repeated_local, info.offset > ui.offset);
      ASSERT_EQ(z->IsRepeatedLocal(next), ui.repeated_local);
      t = next;
      ++transitions;
    }
    EXPECT_GE(transitions, 2);  // Kathmandu has just two
  }
}

// The tzdata files list transitions up to 2037 only; later ones come from the
// POSIX rule in each file's footer. Expected instants from Python's zoneinfo,
// which applies the same footer.
TEST(TimeZoneTest, FollowsPosixRuleAfter2037) {
  struct Case {
    const char* zone;
    int64_t at;
    int64_t offset_after;
    int64_t offset_before;
  };
  const Case cases[] = {
      {"Europe/Vienna", 2216250000, 7200, 3600},         // 2040-03-25T01:00Z
      {"Europe/Vienna", 2234998800, 3600, 7200},         // 2040-10-28T01:00Z
      {"America/New_York", 2215062000, -14400, -18000},  // 2040-03-11T07:00Z
      {"America/New_York", 2235621600, -18000, -14400},  // 2040-11-04T06:00Z
      {"Australia/Sydney", 2532528000, 36000, 39600},    // 2050-04-02T16:00Z
      {"Australia/Sydney", 2548252800, 39600, 36000},    // 2050-10-01T16:00Z
      {"Europe/Dublin", 2374102800, 3600, 0},            // 2045-03-26T01:00Z (negative DST)
      {"Europe/Dublin", 2392851600, 0, 3600},            // 2045-10-29T01:00Z
      {"Australia/Lord_Howe", 2216818800, 37800, 39600},  // 2040-03-31T15:00Z (30 min)
      {"Australia/Lord_Howe", 2233150200, 39600, 37800},  // 2040-10-06T15:30Z
      {"America/Santiago", 2217466800, -14400, -10800},   // 2040-04-08T03:00Z (24:00 rule)
      {"America/Santiago", 2230171200, -10800, -14400},   // 2040-09-02T04:00Z
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.zone) + " " + std::to_string(c.at));
    auto z = Zone(c.zone);
    EXPECT_EQ(z->OffsetAt(Utc(c.at)), seconds(c.offset_after));
    EXPECT_EQ(z->OffsetAt(Utc(c.at - 1)), seconds(c.offset_before));
    EXPECT_EQ(z->IsRepeatedLocal(Utc(c.at)), c.offset_after < c.offset_before);
  }
  auto vienna = Zone("Europe/Vienna");
  LocalToUtc gap = vienna->ToUtc(Local(2040y / 3 / 25, 2, 30));
  EXPECT_TRUE(gap.nonexistent);
  EXPECT_EQ(gap.utc, Utc(2216250000));
  EXPECT_EQ(vienna->OffsetAt(TimePoint(std::chrono::sys_days(2399y / 7 / 1))), 2h);
}

TEST(TimeZoneTest, FarPastAndFuture) {
  auto z = Zone("Europe/Vienna");
  // Before standard time zones, Vienna used local mean time (+1:05:21).
  EXPECT_EQ(z->OffsetAt(TimePoint(std::chrono::sys_days(1850y / 1 / 1))), 3921s);
  // Winter is always +01:00 in this millennium.
  EXPECT_EQ(z->OffsetAt(TimePoint(std::chrono::sys_days(2300y / 1 / 1))), 1h);
  LocalToUtc r = z->ToUtc(Local(2300y / 1 / 1, 0));
  EXPECT_EQ(r.utc, TimePoint(std::chrono::sys_days(2300y / 1 / 1)) - 1h);
}

}  // namespace
}  // namespace arbiter::time
