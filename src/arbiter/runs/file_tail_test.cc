#include "arbiter/runs/file_tail.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "arbiter/testing/temp_dir.h"

namespace arbiter::runs {
namespace {

struct Line {
  std::string text;
  size_t total;
  bool operator==(const Line&) const = default;
};

void Append(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::app) << data;
}

TEST(FileTailTest, DeliversCompleteLinesAndResumesFromItsOffset) {
  testing::TempDir dir;
  std::string path = (dir.path() / "f").string();
  std::vector<Line> got;
  auto collect = [&](std::string_view l, size_t total) { got.push_back({std::string(l), total}); };
  FileTail tail(path, 0, 1024);
  ASSERT_TRUE(tail.Poll(collect).ok());  // not there yet: fine
  Append(path, "one\ntw");
  ASSERT_TRUE(tail.Poll(collect).ok());
  EXPECT_EQ(got, (std::vector<Line>{{"one", 3}}));
  EXPECT_EQ(tail.offset(), 4);
  Append(path, "o\r\nthree");
  ASSERT_TRUE(tail.Poll(collect).ok());
  EXPECT_EQ(got.back(), (Line{"two", 3}));
  EXPECT_EQ(tail.offset(), 9);

  // A second reader starting at the stored offset sees only what follows.
  std::vector<Line> resumed;
  FileTail again(path, tail.offset(), 1024);
  ASSERT_TRUE(again
                  .Poll(
                      [&](std::string_view l, size_t t) {
                        resumed.push_back({std::string(l), t});
                      },
                      /*at_end=*/true)
                  .ok());
  EXPECT_EQ(resumed, (std::vector<Line>{{"three", 5}}));
}

TEST(FileTailTest, LongLinesAreCutAndReportTheirLength) {
  testing::TempDir dir;
  std::string path = (dir.path() / "f").string();
  Append(path, std::string(100, 'x') + "\nok\n");
  std::vector<Line> got;
  FileTail tail(path, 0, 10);
  ASSERT_TRUE(tail.Poll([&](std::string_view l, size_t t) {
                    got.push_back({std::string(l), t});
                  })
                  .ok());
  EXPECT_EQ(got, (std::vector<Line>{{std::string(10, 'x'), 100}, {"ok", 2}}));
  EXPECT_EQ(tail.offset(), 104);
}

}  // namespace
}  // namespace arbiter::runs

namespace arbiter::runs {
namespace {

TEST(FileTailTest, ALineBudgetLeavesTheRestForTheNextPoll) {
  testing::TempDir dir;
  std::string path = (dir.path() / "f").string();
  Append(path, "1\n2\n3\n4\n5");
  std::vector<std::string> got;
  auto collect = [&](std::string_view l, size_t) { got.emplace_back(l); };
  FileTail tail(path, 0, 1024);
  ASSERT_TRUE(tail.Poll(collect, /*at_end=*/true, /*max_lines=*/2).ok());
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2"}));
  EXPECT_TRUE(tail.more_available());
  EXPECT_EQ(tail.offset(), 4);
  ASSERT_TRUE(tail.Poll(collect, true, 2).ok());
  ASSERT_TRUE(tail.Poll(collect, true, 2).ok());
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
  EXPECT_FALSE(tail.more_available());
}

}  // namespace
}  // namespace arbiter::runs
