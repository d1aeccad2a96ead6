// StaticPartitions: an explicit list of keys, in declaration order.
// KeyAt is O(1); IndexOf is one hash lookup. Immutable; safe to share.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/definitions/partitions/partitions_def.h"

namespace arbiter::definitions {

// Rules every partition key obeys (static and dynamic): non-empty, at most 256
// bytes, printable, and without '|' (the multi-dimension separator) or a
// leading/trailing space. Returns kInvalidArgument naming the problem.
Status ValidatePartitionKey(std::string_view key);

class StaticPartitions final : public PartitionsDef {
 public:
  // Errors: an invalid key, or a duplicate ("duplicate partition key 'x'").
  static Result<std::unique_ptr<StaticPartitions>> Create(std::vector<std::string> keys);

  PartitionsKind kind() const override { return PartitionsKind::kStatic; }
  int64_t Size() const override { return static_cast<int64_t>(keys_.size()); }
  std::string KeyAt(int64_t index) const override { return keys_[static_cast<size_t>(index)]; }
  std::optional<int64_t> IndexOf(std::string_view key) const override;
  std::string Describe() const override;

 private:
  StaticPartitions() = default;
  std::vector<std::string> keys_;
  std::unordered_map<std::string_view, int64_t> index_;  // views into keys_
};

}  // namespace arbiter::definitions
