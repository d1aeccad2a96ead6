// MultiPartitions: the cross product of two named dimensions, e.g. crawl id ×
// seed set. Keys join the dimension keys with '|' in dimension order
// ("CC-MAIN-2024-10|seeds-a"); indices are row-major (first dimension outer),
// so index = i * Size(second) + j. O(1) plus the dimensions' own lookups.
// Holds shared, immutable dimension definitions; safe to share if they are.
#pragma once

#include <memory>
#include <string>

#include "arbiter/definitions/partitions/partitions_def.h"

namespace arbiter::definitions {

struct PartitionDimension {
  std::string name;  // e.g. "crawl"
  std::shared_ptr<const PartitionsDef> def;
};

class MultiPartitions final : public PartitionsDef {
 public:
  MultiPartitions(PartitionDimension first, PartitionDimension second)
      : first_(std::move(first)), second_(std::move(second)) {}

  PartitionsKind kind() const override { return PartitionsKind::kMulti; }
  int64_t Size() const override { return first_.def->Size() * second_.def->Size(); }
  std::string KeyAt(int64_t index) const override;
  std::optional<int64_t> IndexOf(std::string_view key) const override;
  std::string Describe() const override;

  const PartitionDimension& first() const { return first_; }
  const PartitionDimension& second() const { return second_; }

 private:
  PartitionDimension first_;
  PartitionDimension second_;
};

}  // namespace arbiter::definitions
