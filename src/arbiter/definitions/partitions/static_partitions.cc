#include "arbiter/definitions/partitions/static_partitions.h"

#include "arbiter/common/strings.h"

namespace arbiter::definitions {

std::string_view PartitionsKindName(PartitionsKind kind) {
  switch (kind) {
    case PartitionsKind::kStatic: return "static";
    case PartitionsKind::kTimeWindow: return "time";
    case PartitionsKind::kDynamic: return "dynamic";
    case PartitionsKind::kMulti: return "multi";
  }
  return "?";
}

Status ValidatePartitionKey(std::string_view key) {
  if (key.empty()) return InvalidArgumentError("partition key is empty");
  if (key.size() > 256) {
    return InvalidArgumentError("partition key is longer than 256 bytes: " +
                                Quote(key.substr(0, 40)) + "...");
  }
  if (key.front() == ' ' || key.back() == ' ') {
    return InvalidArgumentError("partition key " + Quote(key) +
                                " has a leading or trailing space");
  }
  for (unsigned char c : key) {
    if (c == '|') {
      return InvalidArgumentError("partition key " + Quote(key) +
                                  " contains '|', which separates the dimensions of "
                                  "multi-partition keys");
    }
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgumentError("partition key " + Quote(key) + " contains a control character");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<StaticPartitions>> StaticPartitions::Create(std::vector<std::string> keys) {
  std::unique_ptr<StaticPartitions> p(new StaticPartitions());
  p->keys_ = std::move(keys);
  p->index_.reserve(p->keys_.size());
  for (size_t i = 0; i < p->keys_.size(); ++i) {
    const std::string& k = p->keys_[i];
    ARBITER_RETURN_IF_ERROR(ValidatePartitionKey(k));
    if (!p->index_.emplace(k, static_cast<int64_t>(i)).second) {
      return InvalidArgumentError("duplicate partition key " + Quote(k));
    }
  }
  return p;
}

std::optional<int64_t> StaticPartitions::IndexOf(std::string_view key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

std::string StaticPartitions::Describe() const {
  std::string out = "static, " + std::to_string(keys_.size()) + " keys";
  if (!keys_.empty()) {
    out += " (" + keys_.front();
    if (keys_.size() > 1) out += (keys_.size() > 2 ? " ... " : ", ") + keys_.back();
    out += ")";
  }
  return out;
}

}  // namespace arbiter::definitions
