// AssetGraph: the dependency graph of a project's assets (an edge from an
// asset to each of its deps). Gives a deterministic upstream-first order and
// every dependency cycle as a readable path. Built once from a Project;
// immutable and safe to share. Deps naming unknown assets are ignored here
// (the loader reports them).
#pragma once

#include <map>
#include <vector>

#include "arbiter/definitions/project.h"

namespace arbiter::definitions {

class AssetGraph {
 public:
  explicit AssetGraph(const std::map<AssetKey, AssetDef>& assets);

  // Every asset, deps before dependents, ties broken by key. Assets on a
  // cycle come last, in key order.
  const std::vector<AssetKey>& TopologicalOrder() const { return order_; }

  // One path per strongly connected component that contains a cycle, starting
  // and ending at its smallest key: {a, b, c, a} means a depends on b, b on c,
  // c on a. A self-dependency is {a, a}.
  std::vector<std::vector<AssetKey>> Cycles() const;

  const std::vector<AssetKey>& Deps(const AssetKey& key) const;        // direct upstream
  const std::vector<AssetKey>& Dependents(const AssetKey& key) const;  // direct downstream

 private:
  std::vector<AssetKey> keys_;  // index -> key, sorted
  std::map<AssetKey, int> index_;
  std::vector<std::vector<int>> deps_;
  std::vector<std::vector<AssetKey>> dep_keys_, dependent_keys_;
  std::vector<AssetKey> order_;
};

}  // namespace arbiter::definitions
