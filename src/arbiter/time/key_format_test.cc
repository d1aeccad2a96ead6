// Tests for KeyFormat: compile errors, formatting, strict parsing.
#include "arbiter/time/key_format.h"

#include <gtest/gtest.h>

namespace arbiter::time {
namespace {

KeyFormat MustCompile(std::string_view pattern) {
  auto f = KeyFormat::Compile(pattern);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return std::move(f).value();
}

std::string Fmt(const KeyFormat& f, const KeyFields& k) {
  std::string out = "prefix:";
  f.Format(k, &out);  // appends
  return out.substr(7);
}

TEST(KeyFormatTest, CompileErrors) {
  auto bad = KeyFormat::Compile("%Y-%b");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(),
            "key format '%Y-%b': unsupported conversion '%b' at offset 3; "
            "supported: %Y %m %d %H %M %S %z %%");
  auto trailing = KeyFormat::Compile("%Y-%");
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.status().message(),
            "key format '%Y-%' ends with a lone '%'; write %% for a literal '%'");
  EXPECT_FALSE(KeyFormat::Compile("").ok());
  auto twice = KeyFormat::Compile("%Y-%m-%Y");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(),
            "key format '%Y-%m-%Y': conversion %Y appears more than once");
}

TEST(KeyFormatTest, HasReportsConversions) {
  KeyFormat f = MustCompile("%Y-%m-%d-%H:%M");
  EXPECT_EQ(f.pattern(), "%Y-%m-%d-%H:%M");
  EXPECT_TRUE(f.has('Y'));
  EXPECT_TRUE(f.has('M'));
  EXPECT_FALSE(f.has('S'));
  EXPECT_FALSE(f.has('z'));
  EXPECT_FALSE(f.has('x'));
  EXPECT_FALSE(MustCompile("100%%").has('%'));
}

TEST(KeyFormatTest, FormatsAllConversions) {
  KeyFields k;
  k.year = 2024;
  k.month = 3;
  k.day = 9;
  k.hour = 7;
  k.minute = 5;
  k.second = 4;
  k.offset_seconds = -4 * 3600;
  EXPECT_EQ(Fmt(MustCompile("%Y-%m-%d-%H:%M"), k), "2024-03-09-07:05");
  EXPECT_EQ(Fmt(MustCompile("%Y%m%dT%H%M%S%z"), k), "20240309T070504-0400");
  EXPECT_EQ(Fmt(MustCompile("dt=%Y-%m/100%%"), k), "dt=2024-03/100%");
  k.offset_seconds = 5 * 3600 + 45 * 60;
  k.year = 7;
  EXPECT_EQ(Fmt(MustCompile("%Y %z"), k), "0007 +0545");
}

TEST(KeyFormatTest, ParsesExactly) {
  KeyFormat f = MustCompile("%Y-%m-%d-%H:%M");
  auto k = f.Parse("2024-10-27-02:30");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->year, 2024);
  EXPECT_EQ(k->month, 10);
  EXPECT_EQ(k->day, 27);
  EXPECT_EQ(k->hour, 2);
  EXPECT_EQ(k->minute, 30);
  EXPECT_EQ(k->second, 0);
  EXPECT_FALSE(k->offset_seconds.has_value());
  for (const char* bad : {"2024-10-27-2:30", "2024-10-27-02:30 ", "2024-10-27-02:3",
                          "2024-10-27-02:300", "2024-10-27 02:30", "24-10-27-02:30",
                          "2024-13-27-02:30", "2024-00-27-02:30", "2024-10-32-02:30",
                          "2024-10-00-02:30", "2024-10-27-24:00", "2024-10-27-02:60",
                          "2024-02-30-00:00", "2023-02-29-00:00", "", "2024-10-27-+2:30",
                          "2024-10-27-02:30+0100"}) {
    EXPECT_FALSE(f.Parse(bad).has_value()) << bad;
  }
  EXPECT_TRUE(f.Parse("2024-02-29-00:00").has_value());
}

TEST(KeyFormatTest, ParsesOffsetsAndLiterals) {
  KeyFormat f = MustCompile("%%%Y%m%d%z");
  auto k = f.Parse("%20241103-0500");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->offset_seconds, -5 * 3600);
  EXPECT_EQ(k->day, 3);
  EXPECT_EQ(f.Parse("%20241103+0545")->offset_seconds, 5 * 3600 + 45 * 60);
  EXPECT_FALSE(f.Parse("%20241103 0500").has_value());
  EXPECT_FALSE(f.Parse("%20241103+05").has_value());
  EXPECT_FALSE(f.Parse("%20241103+0560").has_value());
  EXPECT_FALSE(f.Parse("20241103+0500").has_value());
  // Without a year, 02-29 is allowed (it exists in leap years).
  EXPECT_TRUE(MustCompile("%m-%d").Parse("02-29").has_value());
  EXPECT_FALSE(MustCompile("%m-%d").Parse("02-30").has_value());
}

TEST(KeyFormatTest, RoundTripsEveryHourOfFourYears) {
  KeyFormat f = MustCompile("%Y-%m-%d-%H:%M");
  std::string key;
  int count = 0;
  for (int y = 2023; y <= 2026; ++y) {
    for (int m = 1; m <= 12; ++m) {
      const int days = m == 2 ? (y % 4 == 0 ? 29 : 28) : (m == 4 || m == 6 || m == 9 || m == 11)
                                                            ? 30
                                                            : 31;
      for (int d = 1; d <= days; ++d) {
        for (int h = 0; h < 24; ++h) {
          KeyFields k;
          k.year = y;
          k.month = m;
          k.day = d;
          k.hour = h;
          k.minute = 15;
          key.clear();
          f.Format(k, &key);
          auto back = f.Parse(key);
          ASSERT_TRUE(back.has_value()) << key;
          ASSERT_EQ(back->year, y);
          ASSERT_EQ(back->month, m);
          ASSERT_EQ(back->day, d);
          ASSERT_EQ(back->hour, h);
          ASSERT_EQ(back->minute, 15);
          ++count;
        }
      }
    }
  }
  EXPECT_EQ(count, (365 * 3 + 366) * 24);
}

}  // namespace
}  // namespace arbiter::time
