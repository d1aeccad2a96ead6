#include "arbiter/definitions/partitions/multi_partitions.h"

#include <gtest/gtest.h>

#include "arbiter/definitions/partitions/static_partitions.h"

namespace arbiter::definitions {
namespace {

std::shared_ptr<const PartitionsDef> Static(std::vector<std::string> keys) {
  return std::shared_ptr<const PartitionsDef>(StaticPartitions::Create(std::move(keys)).value());
}

TEST(MultiPartitionsTest, RowMajorKeysAndRoundTrip) {
  MultiPartitions m({"crawl", Static({"CC-MAIN-2024-10", "CC-MAIN-2024-18"})},
                    {"seed", Static({"seeds-a", "seeds-b", "seeds-c"})});
  EXPECT_EQ(m.Size(), 6);
  EXPECT_EQ(m.KeyAt(0), "CC-MAIN-2024-10|seeds-a");
  EXPECT_EQ(m.KeyAt(4), "CC-MAIN-2024-18|seeds-b");
  for (int64_t i = 0; i < m.Size(); ++i) EXPECT_EQ(m.IndexOf(m.KeyAt(i)), i);
  EXPECT_EQ(m.IndexOf("CC-MAIN-2024-10"), std::nullopt);
  EXPECT_EQ(m.IndexOf("CC-MAIN-2024-10|seeds-z"), std::nullopt);
  EXPECT_EQ(m.IndexOf("nope|seeds-a"), std::nullopt);
  EXPECT_EQ(m.Describe(), "crawl × seed (2 × 3)");
}

}  // namespace
}  // namespace arbiter::definitions
