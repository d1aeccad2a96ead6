#include "arbiter/definitions/partitions/dynamic_partitions.h"

#include "arbiter/definitions/partitions/static_partitions.h"

namespace arbiter::definitions {

Result<int64_t> DynamicPartitions::Add(std::string key) {
  ARBITER_RETURN_IF_ERROR(ValidatePartitionKey(key));
  if (auto existing = IndexOf(key)) return *existing;
  keys_.push_back(std::move(key));
  int64_t index = static_cast<int64_t>(keys_.size()) - 1;
  index_.emplace(keys_.back(), index);
  return index;
}

std::optional<int64_t> DynamicPartitions::IndexOf(std::string_view key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string DynamicPartitions::Describe() const {
  return "dynamic set '" + name_ + "', " + std::to_string(keys_.size()) +
         " keys known (keys are added at run time)";
}

}  // namespace arbiter::definitions
