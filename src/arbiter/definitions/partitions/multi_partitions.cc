#include "arbiter/definitions/partitions/multi_partitions.h"

namespace arbiter::definitions {

std::string MultiPartitions::KeyAt(int64_t index) const {
  int64_t n2 = second_.def->Size();
  return first_.def->KeyAt(index / n2) + "|" + second_.def->KeyAt(index % n2);
}

std::optional<int64_t> MultiPartitions::IndexOf(std::string_view key) const {
  size_t bar = key.find('|');
  if (bar == std::string_view::npos) return std::nullopt;
  auto i = first_.def->IndexOf(key.substr(0, bar));
  if (!i) return std::nullopt;
  auto j = second_.def->IndexOf(key.substr(bar + 1));
  if (!j) return std::nullopt;
  return *i * second_.def->Size() + *j;
}

std::string MultiPartitions::Describe() const {
  return first_.name + " × " + second_.name + " (" + std::to_string(first_.def->Size()) + " × " +
         std::to_string(second_.def->Size()) + ")";
}

}  // namespace arbiter::definitions
