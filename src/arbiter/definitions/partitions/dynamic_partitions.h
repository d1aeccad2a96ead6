// DynamicPartitions: keys added while Arbiter runs (e.g. a new crawl id found
// by a sensor), in the order they were added. The definition in arbiter.yaml
// only names the set; the keys live in storage and are loaded into this
// in-memory index. Not thread-safe: callers serialize Add against reads.
#pragma once

#include <deque>
#include <string>
#include <unordered_map>

#include "arbiter/common/status.h"
#include "arbiter/definitions/partitions/partitions_def.h"

namespace arbiter::definitions {

class DynamicPartitions final : public PartitionsDef {
 public:
  explicit DynamicPartitions(std::string name) : name_(std::move(name)) {}

  // Adds a key; returns its index. Adding a key twice returns the first index.
  // kInvalidArgument if the key breaks ValidatePartitionKey.
  Result<int64_t> Add(std::string key);

  PartitionsKind kind() const override { return PartitionsKind::kDynamic; }
  int64_t Size() const override { return static_cast<int64_t>(keys_.size()); }
  std::string KeyAt(int64_t index) const override { return keys_[static_cast<size_t>(index)]; }
  std::optional<int64_t> IndexOf(std::string_view key) const override;
  std::string Describe() const override;

 private:
  std::string name_;
  std::deque<std::string> keys_;  // deque: growth never moves keys the index points at
  std::unordered_map<std::string_view, int64_t> index_;
};

}  // namespace arbiter::definitions
