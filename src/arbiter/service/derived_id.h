// Run ids derived from what a run is for (a schedule tick and partition, a
// backfill and partition), so the service creating the same run again after
// a crash finds it stored instead of queuing a second one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace arbiter::service {

// 16 hex digits (as runs::NewRunId), a 64-bit FNV-1a hash of `seed`.
inline std::string DerivedRunId(std::string_view seed) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : seed) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[i] = "0123456789abcdef"[h & 0xF];
  return out;
}

}  // namespace arbiter::service
