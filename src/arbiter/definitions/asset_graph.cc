#include "arbiter/definitions/asset_graph.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <queue>

namespace arbiter::definitions {

AssetGraph::AssetGraph(const std::map<AssetKey, AssetDef>& assets) {
  for (const auto& [key, def] : assets) {
    index_[key] = static_cast<int>(keys_.size());
    keys_.push_back(key);
  }
  const int n = static_cast<int>(keys_.size());
  deps_.resize(n);
  dep_keys_.resize(n);
  dependent_keys_.resize(n);
  for (const auto& [key, def] : assets) {
    int i = index_[key];
    for (const AssetKey& d : def.deps) {
      auto it = index_.find(d);
      if (it == index_.end()) continue;
      if (std::find(deps_[i].begin(), deps_[i].end(), it->second) != deps_[i].end()) continue;
      deps_[i].push_back(it->second);
      dep_keys_[i].push_back(d);
      dependent_keys_[it->second].push_back(key);
    }
  }
  // Kahn's algorithm with a min-heap on index (= key order) for determinism.
  std::vector<int> pending(n);
  std::vector<std::vector<int>> dependents(n);
  for (int i = 0; i < n; ++i) {
    pending[i] = static_cast<int>(deps_[i].size());
    for (int d : deps_[i]) dependents[d].push_back(i);
  }
  std::priority_queue<int, std::vector<int>, std::greater<int>> ready;
  for (int i = 0; i < n; ++i) {
    if (pending[i] == 0) ready.push(i);
  }
  std::vector<bool> placed(n, false);
  while (!ready.empty()) {
    int i = ready.top();
    ready.pop();
    placed[i] = true;
    order_.push_back(keys_[i]);
    for (int j : dependents[i]) {
      if (--pending[j] == 0) ready.push(j);
    }
  }
  for (int i = 0; i < n; ++i) {
    if (!placed[i]) order_.push_back(keys_[i]);
  }
}

std::vector<std::vector<AssetKey>> AssetGraph::Cycles() const {
  // Tarjan's strongly connected components, iterative so deep chains of
  // thousands of assets cannot overflow the stack.
  const int n = static_cast<int>(keys_.size());
  std::vector<int> index(n, -1), low(n, 0), comp(n, -1);
  std::vector<bool> on_stack(n, false);
  std::vector<int> stack;
  int next_index = 0, next_comp = 0;
  std::vector<std::vector<int>> components;
  for (int root = 0; root < n; ++root) {
    if (index[root] != -1) continue;
    std::vector<std::pair<int, size_t>> work = {{root, 0}};
    while (!work.empty()) {
      auto& [v, edge] = work.back();
      if (edge == 0 && index[v] == -1) {
        index[v] = low[v] = next_index++;
        stack.push_back(v);
        on_stack[v] = true;
      }
      if (edge < deps_[v].size()) {
        int w = deps_[v][edge++];
        if (index[w] == -1) {
          work.push_back({w, 0});
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      if (low[v] == index[v]) {
        std::vector<int> members;
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          on_stack[w] = false;
          comp[w] = next_comp;
          members.push_back(w);
        } while (w != v);
        components.push_back(std::move(members));
        ++next_comp;
      }
      int done = v;
      work.pop_back();
      if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
    }
  }
  std::vector<std::vector<AssetKey>> cycles;
  for (size_t c = 0; c < components.size(); ++c) {
    const auto& members = components[c];
    int start = *std::min_element(members.begin(), members.end());
    bool self_loop = std::find(deps_[start].begin(), deps_[start].end(), start) != deps_[start].end();
    if (members.size() == 1 && !self_loop) continue;
    if (self_loop) {
      cycles.push_back({keys_[start], keys_[start]});
      continue;
    }
    // Shortest path start -> ... -> start inside the component (BFS).
    std::vector<int> parent(n, -2);
    std::deque<int> queue = {start};
    parent[start] = -1;
    int last = -1;
    while (!queue.empty() && last == -1) {
      int v = queue.front();
      queue.pop_front();
      std::vector<int> next = deps_[v];
      std::sort(next.begin(), next.end());
      for (int w : next) {
        if (comp[w] != static_cast<int>(c)) continue;
        if (w == start) {
          last = v;
          break;
        }
        if (parent[w] == -2) {
          parent[w] = v;
          queue.push_back(w);
        }
      }
    }
    std::vector<AssetKey> path;
    for (int v = last; v != -1; v = parent[v]) path.push_back(keys_[v]);
    std::reverse(path.begin(), path.end());
    path.push_back(keys_[start]);
    cycles.push_back(std::move(path));
  }
  std::sort(cycles.begin(), cycles.end());
  return cycles;
}

const std::vector<AssetKey>& AssetGraph::Deps(const AssetKey& key) const {
  static const std::vector<AssetKey> kNone;
  auto it = index_.find(key);
  return it == index_.end() ? kNone : dep_keys_[it->second];
}

const std::vector<AssetKey>& AssetGraph::Dependents(const AssetKey& key) const {
  static const std::vector<AssetKey> kNone;
  auto it = index_.find(key);
  return it == index_.end() ? kNone : dependent_keys_[it->second];
}

}  // namespace arbiter::definitions
