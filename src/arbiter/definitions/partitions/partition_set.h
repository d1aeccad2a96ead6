// PartitionSet: a set of partition indices stored as sorted, disjoint,
// non-adjacent half-open ranges [begin, end). A backfill of a million
// contiguous partitions is one range; status sets (materialized, failed)
// stay small when runs succeed or fail in stretches.
// Value type; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"

namespace arbiter::definitions {

struct IndexRange {
  int64_t begin = 0;  // inclusive
  int64_t end = 0;    // exclusive
  int64_t size() const { return end - begin; }
  friend bool operator==(const IndexRange&, const IndexRange&) = default;
};

class PartitionSet {
 public:
  PartitionSet() = default;
  static PartitionSet Range(int64_t begin, int64_t end);

  void Add(int64_t index) { AddRange(index, index + 1); }
  void AddRange(int64_t begin, int64_t end);  // no-op when begin >= end
  void Remove(int64_t index) { RemoveRange(index, index + 1); }
  void RemoveRange(int64_t begin, int64_t end);

  bool Contains(int64_t index) const;  // O(log ranges)
  int64_t Count() const;               // O(ranges)
  bool Empty() const { return ranges_.empty(); }
  const std::vector<IndexRange>& ranges() const { return ranges_; }

  PartitionSet Union(const PartitionSet& other) const;
  PartitionSet Intersect(const PartitionSet& other) const;
  PartitionSet Difference(const PartitionSet& other) const;

  // The index of the n-th member (0-based), for paging. REQUIRES n < Count().
  int64_t Nth(int64_t n) const;

  // Compact binary form for storage: a version byte, then per range the gap
  // from the previous range's end and the range's length, as LEB128 varints.
  // A million partitions in 1,000 scattered ranges take about 4 KB.
  std::string Encode() const;
  // kInvalidArgument for bytes Encode did not produce (truncated, bad
  // version, overflowing or empty ranges).
  static Result<PartitionSet> Decode(std::string_view bytes);

  friend bool operator==(const PartitionSet&, const PartitionSet&) = default;

 private:
  std::vector<IndexRange> ranges_;
};

}  // namespace arbiter::definitions
