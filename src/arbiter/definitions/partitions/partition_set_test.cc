#include "arbiter/definitions/partitions/partition_set.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace arbiter::definitions {
namespace {

std::vector<IndexRange> R(std::initializer_list<IndexRange> r) { return r; }

TEST(PartitionSetTest, AddMergesOverlappingAndAdjacentRanges) {
  PartitionSet s;
  s.AddRange(10, 20);
  s.AddRange(30, 40);
  EXPECT_EQ(s.ranges(), R({{10, 20}, {30, 40}}));
  s.AddRange(20, 25);  // adjacent to the first
  EXPECT_EQ(s.ranges(), R({{10, 25}, {30, 40}}));
  s.AddRange(5, 35);  // swallows and bridges
  EXPECT_EQ(s.ranges(), R({{5, 40}}));
  s.AddRange(7, 7);  // empty: no-op
  EXPECT_EQ(s.Count(), 35);
}

TEST(PartitionSetTest, MillionPartitionRangeIsOneRange) {
  PartitionSet s = PartitionSet::Range(0, 1'000'000);
  EXPECT_EQ(s.ranges().size(), 1u);
  EXPECT_EQ(s.Count(), 1'000'000);
  s.Remove(500'000);
  EXPECT_EQ(s.ranges(), R({{0, 500'000}, {500'001, 1'000'000}}));
  EXPECT_FALSE(s.Contains(500'000));
  EXPECT_TRUE(s.Contains(999'999));
  EXPECT_EQ(s.Nth(500'000), 500'001);
}

TEST(PartitionSetTest, SetAlgebra) {
  PartitionSet a = PartitionSet::Range(0, 10);
  PartitionSet b;
  b.AddRange(5, 15);
  b.AddRange(20, 22);
  EXPECT_EQ(a.Union(b).ranges(), R({{0, 15}, {20, 22}}));
  EXPECT_EQ(a.Intersect(b).ranges(), R({{5, 10}}));
  EXPECT_EQ(a.Difference(b).ranges(), R({{0, 5}}));
  EXPECT_EQ(b.Difference(a).ranges(), R({{10, 15}, {20, 22}}));
}

// Cross-checks against std::set on random operations.
TEST(PartitionSetTest, MatchesReferenceModel) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> pos(0, 200), len(0, 12), op(0, 2);
  PartitionSet s;
  std::set<int64_t> ref;
  for (int step = 0; step < 2000; ++step) {
    int64_t b = pos(rng), e = b + len(rng);
    if (op(rng) == 0) {
      s.RemoveRange(b, e);
      for (int64_t i = b; i < e; ++i) ref.erase(i);
    } else {
      s.AddRange(b, e);
      for (int64_t i = b; i < e; ++i) ref.insert(i);
    }
    ASSERT_EQ(s.Count(), static_cast<int64_t>(ref.size()));
    for (size_t k = 1; k < s.ranges().size(); ++k) {
      ASSERT_LT(s.ranges()[k - 1].end, s.ranges()[k].begin) << "ranges must not touch";
    }
  }
  for (int64_t i = 0; i < 220; ++i) EXPECT_EQ(s.Contains(i), ref.count(i) == 1) << i;
}

TEST(PartitionSetTest, EncodeDecodeRoundTrip) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int64_t> pos(0, 1'000'000), len(1, 5000);
  PartitionSet s;
  for (int i = 0; i < 1000; ++i) {
    int64_t b = pos(rng);
    s.AddRange(b, b + len(rng));
  }
  std::string bytes = s.Encode();
  Result<PartitionSet> back = PartitionSet::Decode(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  EXPECT_LT(bytes.size(), 8 * s.ranges().size());
  EXPECT_EQ(*PartitionSet::Decode(PartitionSet().Encode()), PartitionSet());
}

TEST(PartitionSetTest, DecodeRejectsCorruptBytes) {
  std::string good = PartitionSet::Range(5, 10).Encode();
  EXPECT_FALSE(PartitionSet::Decode("").ok());
  EXPECT_FALSE(PartitionSet::Decode(std::string(1, 9)).ok());               // version
  EXPECT_FALSE(PartitionSet::Decode(good.substr(0, good.size() - 1)).ok());  // truncated
  EXPECT_FALSE(PartitionSet::Decode(std::string("\x01\x05\x00", 3)).ok());  // empty range
  EXPECT_FALSE(PartitionSet::Decode(std::string("\x01\x00\x01\x00\x01", 5)).ok());  // touching
  EXPECT_FALSE(PartitionSet::Decode(std::string("\x01") + std::string(11, '\xff')).ok());
}

}  // namespace
}  // namespace arbiter::definitions
