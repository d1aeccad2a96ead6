#include "arbiter/definitions/partitions/partition_set.h"

#include <algorithm>
#include <cassert>

namespace arbiter::definitions {

PartitionSet PartitionSet::Range(int64_t begin, int64_t end) {
  PartitionSet s;
  s.AddRange(begin, end);
  return s;
}

void PartitionSet::AddRange(int64_t begin, int64_t end) {
  if (begin >= end) return;
  // First range whose end >= begin (touching ranges merge).
  auto first = std::lower_bound(ranges_.begin(), ranges_.end(), begin,
                                [](const IndexRange& r, int64_t v) { return r.end < v; });
  auto last = first;
  while (last != ranges_.end() && last->begin <= end) {
    begin = std::min(begin, last->begin);
    end = std::max(end, last->end);
    ++last;
  }
  first = ranges_.erase(first, last);
  ranges_.insert(first, IndexRange{begin, end});
}

void PartitionSet::RemoveRange(int64_t begin, int64_t end) {
  if (begin >= end) return;
  std::vector<IndexRange> out;
  out.reserve(ranges_.size() + 1);
  for (const IndexRange& r : ranges_) {
    if (r.end <= begin || r.begin >= end) {
      out.push_back(r);
      continue;
    }
    if (r.begin < begin) out.push_back({r.begin, begin});
    if (r.end > end) out.push_back({end, r.end});
  }
  ranges_ = std::move(out);
}

bool PartitionSet::Contains(int64_t index) const {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), index,
                             [](int64_t v, const IndexRange& r) { return v < r.end; });
  return it != ranges_.end() && it->begin <= index;
}

int64_t PartitionSet::Count() const {
  int64_t n = 0;
  for (const IndexRange& r : ranges_) n += r.size();
  return n;
}

PartitionSet PartitionSet::Union(const PartitionSet& other) const {
  PartitionSet out = *this;
  for (const IndexRange& r : other.ranges_) out.AddRange(r.begin, r.end);
  return out;
}

PartitionSet PartitionSet::Intersect(const PartitionSet& other) const {
  PartitionSet out;
  size_t i = 0, j = 0;
  while (i < ranges_.size() && j < other.ranges_.size()) {
    int64_t b = std::max(ranges_[i].begin, other.ranges_[j].begin);
    int64_t e = std::min(ranges_[i].end, other.ranges_[j].end);
    if (b < e) out.ranges_.push_back({b, e});
    if (ranges_[i].end < other.ranges_[j].end) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

PartitionSet PartitionSet::Difference(const PartitionSet& other) const {
  PartitionSet out = *this;
  for (const IndexRange& r : other.ranges_) out.RemoveRange(r.begin, r.end);
  return out;
}

int64_t PartitionSet::Nth(int64_t n) const {
  for (const IndexRange& r : ranges_) {
    if (n < r.size()) return r.begin + n;
    n -= r.size();
  }
  assert(false && "PartitionSet::Nth out of range");
  return -1;
}

namespace {

constexpr char kEncodingVersion = 1;

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

bool GetVarint(std::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in->empty()) return false;
    auto byte = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

}  // namespace

std::string PartitionSet::Encode() const {
  std::string out(1, kEncodingVersion);
  int64_t prev_end = 0;
  for (const IndexRange& r : ranges_) {
    PutVarint(static_cast<uint64_t>(r.begin - prev_end), &out);
    PutVarint(static_cast<uint64_t>(r.size()), &out);
    prev_end = r.end;
  }
  return out;
}

Result<PartitionSet> PartitionSet::Decode(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != kEncodingVersion) {
    return InvalidArgumentError("partition set: unknown encoding version");
  }
  bytes.remove_prefix(1);
  PartitionSet out;
  int64_t prev_end = 0;
  constexpr uint64_t kMax = uint64_t{1} << 62;
  while (!bytes.empty()) {
    uint64_t gap = 0, size = 0;
    if (!GetVarint(&bytes, &gap) || !GetVarint(&bytes, &size)) {
      return InvalidArgumentError("partition set: truncated encoding");
    }
    if (size == 0 || gap >= kMax || size >= kMax ||
        static_cast<uint64_t>(prev_end) + gap + size >= kMax ||
        (!out.ranges_.empty() && gap == 0)) {
      return InvalidArgumentError("partition set: invalid range in encoding");
    }
    int64_t begin = prev_end + static_cast<int64_t>(gap);
    out.ranges_.push_back({begin, begin + static_cast<int64_t>(size)});
    prev_end = begin + static_cast<int64_t>(size);
  }
  return out;
}

}  // namespace arbiter::definitions
