#include "arbiter/definitions/partitions/static_partitions.h"

#include <gtest/gtest.h>

#include "arbiter/definitions/partitions/dynamic_partitions.h"

namespace arbiter::definitions {
namespace {

TEST(StaticPartitionsTest, KeyIndexRoundTrip) {
  auto p = StaticPartitions::Create({"seeds-a", "seeds-b", "seeds-c"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ((*p)->Size(), 3);
  for (int64_t i = 0; i < 3; ++i) EXPECT_EQ((*p)->IndexOf((*p)->KeyAt(i)), i);
  EXPECT_EQ((*p)->IndexOf("seeds-z"), std::nullopt);
  EXPECT_EQ((*p)->Describe(), "static, 3 keys (seeds-a ... seeds-c)");
}

TEST(StaticPartitionsTest, RejectsBadKeys) {
  EXPECT_EQ(StaticPartitions::Create({"a", "b", "a"}).status().message(),
            "duplicate partition key 'a'");
  EXPECT_NE(StaticPartitions::Create({"a|b"}).status().message().find("contains '|'"),
            std::string::npos);
  EXPECT_EQ(StaticPartitions::Create({""}).status().message(), "partition key is empty");
  EXPECT_FALSE(StaticPartitions::Create({" a"}).ok());
  EXPECT_FALSE(StaticPartitions::Create({"a\nb"}).ok());
  EXPECT_FALSE(StaticPartitions::Create({std::string(300, 'x')}).ok());
}

TEST(StaticPartitionsTest, ScalesToAMillionKeys) {
  std::vector<std::string> keys;
  keys.reserve(1'000'000);
  for (int i = 0; i < 1'000'000; ++i) keys.push_back("k" + std::to_string(i));
  auto p = StaticPartitions::Create(std::move(keys));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ((*p)->IndexOf("k765432"), 765432);
  EXPECT_EQ((*p)->KeyAt(999'999), "k999999");
}

TEST(DynamicPartitionsTest, AddIsIdempotentAndIndexed) {
  DynamicPartitions d("crawls");
  EXPECT_EQ(d.Size(), 0);
  EXPECT_EQ(*d.Add("CC-MAIN-2024-10"), 0);
  EXPECT_EQ(*d.Add("CC-MAIN-2024-18"), 1);
  EXPECT_EQ(*d.Add("CC-MAIN-2024-10"), 0);
  EXPECT_EQ(d.Size(), 2);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(d.Add("x" + std::to_string(i)).ok());
  EXPECT_EQ(d.IndexOf("CC-MAIN-2024-18"), 1);  // still valid after growth
  EXPECT_EQ(d.KeyAt(2), "x0");
  EXPECT_FALSE(d.Add("a|b").ok());
}

}  // namespace
}  // namespace arbiter::definitions
