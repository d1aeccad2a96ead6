#include "arbiter/common/strings.h"

#include <gtest/gtest.h>

namespace arbiter {
namespace {

TEST(StringsTest, SplitKeepsEmptyParts) {
  EXPECT_EQ(Split("a/b//c", '/'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(Split("", '/'), (std::vector<std::string>{""}));
  EXPECT_EQ(Join({"a", "b", "c"}, " -> "), "a -> b -> c");
}

TEST(StringsTest, Trim) {
  EXPECT_EQ(Trim("  x y \t\n"), "x y");
  EXPECT_EQ(Trim("   "), "");
}

TEST(StringsTest, EditDistance) {
  EXPECT_EQ(EditDistance("", ""), 0);
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("partitons", "partitions"), 1);
  EXPECT_EQ(EditDistance("ab", "ba"), 1);  // transposition
  EXPECT_EQ(EditDistance("abc", ""), 3);
}

TEST(StringsTest, ClosestMatchOnlySuggestsLikelyTypos) {
  std::vector<std::string> keys = {"partitions", "placement", "deps", "description"};
  EXPECT_EQ(ClosestMatch("partitons", keys), "partitions");
  EXPECT_EQ(ClosestMatch("dpes", keys), "deps");
  EXPECT_EQ(ClosestMatch("zzzzzz", keys), std::nullopt);
  EXPECT_EQ(DidYouMean("placment", keys), "; did you mean 'placement'?");
  EXPECT_EQ(DidYouMean("owner_team", keys), "");
}

TEST(StringsTest, QuoteEscapesControlCharacters) {
  EXPECT_EQ(Quote("a\tb"), "'a\\x09b'");
  EXPECT_EQ(Quote("plain"), "'plain'");
}

}  // namespace
}  // namespace arbiter
