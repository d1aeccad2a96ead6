#include "arbiter/definitions/asset_graph.h"

#include <gtest/gtest.h>

namespace arbiter::definitions {
namespace {

std::map<AssetKey, AssetDef> Graph(std::vector<std::pair<std::string, std::vector<std::string>>> g) {
  std::map<AssetKey, AssetDef> out;
  for (auto& [key, deps] : g) {
    AssetDef a;
    a.key = *AssetKey::Parse(key);
    for (auto& d : deps) a.deps.push_back(*AssetKey::Parse(d));
    out[a.key] = a;
  }
  return out;
}

std::vector<std::string> Str(const std::vector<AssetKey>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.str());
  return out;
}

TEST(AssetGraphTest, TopologicalOrderIsUpstreamFirstAndDeterministic) {
  AssetGraph g(Graph({{"summary", {"edges", "nodes"}},
                      {"edges", {"nodes"}},
                      {"nodes", {}},
                      {"aux", {}},
                      {"report", {"summary", "aux"}}}));
  EXPECT_EQ(Str(g.TopologicalOrder()),
            (std::vector<std::string>{"aux", "nodes", "edges", "summary", "report"}));
  EXPECT_TRUE(g.Cycles().empty());
  EXPECT_EQ(Str(g.Dependents(*AssetKey::Parse("nodes"))),
            (std::vector<std::string>{"edges", "summary"}));
  EXPECT_EQ(Str(g.Deps(*AssetKey::Parse("report"))), (std::vector<std::string>{"summary", "aux"}));
}

TEST(AssetGraphTest, CyclesAreShortestPathsFromTheSmallestKey) {
  AssetGraph g(Graph({{"a", {"b"}},
                      {"b", {"c", "x"}},
                      {"c", {"a"}},
                      {"x", {}},
                      {"s", {"s"}},
                      {"p", {"q"}},
                      {"q", {"p"}}}));
  auto cycles = g.Cycles();
  ASSERT_EQ(cycles.size(), 3u);
  EXPECT_EQ(Str(cycles[0]), (std::vector<std::string>{"a", "b", "c", "a"}));
  EXPECT_EQ(Str(cycles[1]), (std::vector<std::string>{"p", "q", "p"}));
  EXPECT_EQ(Str(cycles[2]), (std::vector<std::string>{"s", "s"}));
  // Assets on cycles still appear once in the order, after the acyclic ones.
  EXPECT_EQ(g.TopologicalOrder().size(), 7u);
  EXPECT_EQ(g.TopologicalOrder().front().str(), "x");
}

TEST(AssetGraphTest, DeepChainDoesNotOverflow) {
  std::vector<std::pair<std::string, std::vector<std::string>>> chain;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    chain.push_back({"n" + std::to_string(i),
                     i == 0 ? std::vector<std::string>{"n" + std::to_string(n - 1)}
                            : std::vector<std::string>{"n" + std::to_string(i - 1)}});
  }
  AssetGraph g(Graph(chain));
  auto cycles = g.Cycles();
  ASSERT_EQ(cycles.size(), 1u);
  EXPECT_EQ(cycles[0].size(), static_cast<size_t>(n + 1));
}

TEST(AssetKeyTest, ParsesAndRejects) {
  EXPECT_EQ(AssetKey::Parse("commoncrawl/edges")->parts(),
            (std::vector<std::string>{"commoncrawl", "edges"}));
  EXPECT_EQ(AssetKey::Parse("a//b").status().message(),
            "asset key 'a//b' has an empty part (keys look like 'commoncrawl/edges')");
  EXPECT_EQ(AssetKey::Parse("a b").status().message(),
            "asset key 'a b' contains ' '; parts may use letters, digits, '_', '-' and '.'");
  EXPECT_FALSE(AssetKey::Parse("").ok());
  EXPECT_FALSE(AssetKey::Parse("/a").ok());
}

}  // namespace
}  // namespace arbiter::definitions
