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
