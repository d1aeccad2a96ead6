// PartitionsDef: the set of partition keys of an asset, addressed by index.
//
// Keys are never enumerated into a list for the whole definition: every
// implementation maps index -> key and key -> index directly (O(1) for time
// windows and multi dimensions, a hash lookup for static keys), so an asset
// may have millions of partitions. Index order is the natural order of the
// keys (chronological for time windows, declaration order for static keys,
// row-major for two dimensions). Sets of partitions are PartitionSet ranges.
// Definitions are immutable after construction and safe to share across threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace arbiter::definitions {

enum class PartitionsKind { kStatic, kTimeWindow, kDynamic, kMulti };

std::string_view PartitionsKindName(PartitionsKind kind);  // "static", "time", ...

class PartitionsDef {
 public:
  virtual ~PartitionsDef() = default;

  virtual PartitionsKind kind() const = 0;

  // Number of partitions (for dynamic definitions: the keys known now).
  virtual int64_t Size() const = 0;

  // The key at `index`. REQUIRES: 0 <= index < Size().
  virtual std::string KeyAt(int64_t index) const = 0;

  // The index of `key`, or nullopt if it is not a partition of this definition.
  virtual std::optional<int64_t> IndexOf(std::string_view key) const = 0;

  // One line for humans, e.g. "daily from 2024-01-01 in Europe/Vienna".
  virtual std::string Describe() const = 0;
};

}  // namespace arbiter::definitions
