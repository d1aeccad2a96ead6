// KeyFormat: a strftime-like pattern for time-window partition keys, compiled
// once so that formatting and parsing a key take tens of nanoseconds.
//
// Supported conversions: %Y (4-digit year), %m, %d, %H, %M, %S (2 digits),
// %z (+HHMM), %% (a literal '%'). Everything else is literal text.
// Immutable; safe to share.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/time/time_zone.h"

namespace arbiter::time {

struct KeyFields {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  std::optional<int> offset_seconds;  // only when the format has %z
};

class KeyFormat {
 public:
  // kInvalidArgument for an unknown conversion ("unsupported conversion '%b' at
  // offset 3; supported: %Y %m %d %H %M %S %z %%"), a trailing '%', an empty
  // pattern, or a conversion used twice (its value would be ambiguous).
  static Result<KeyFormat> Compile(std::string_view pattern);

  const std::string& pattern() const { return pattern_; }
  bool has(char conversion) const { return (present_ & Bit(conversion)) != 0; }  // has('H')

  // Appends the formatted key to *out.
  void Format(const KeyFields& fields, std::string* out) const;
  // Writes the key at `out`, which must have room for max_size() chars, and
  // returns the end. For callers that format into a stack buffer.
  char* FormatTo(const KeyFields& fields, char* out) const;
  size_t max_size() const { return max_size_; }
  // Parses a whole key; nullopt if it does not match the pattern exactly: every
  // literal, exactly the digits each conversion takes, values in range (a day
  // that does not exist in the parsed month, e.g. 2023-02-29, is rejected).
  // Fields the pattern lacks keep their KeyFields defaults.
  std::optional<KeyFields> Parse(std::string_view key) const;

 private:
  struct Piece {
    char conversion = 0;  // 0 = literal
    std::string literal;
  };
  static constexpr uint32_t Bit(char conversion) {
    switch (conversion) {
      case 'Y': return 1u << 0;
      case 'm': return 1u << 1;
      case 'd': return 1u << 2;
      case 'H': return 1u << 3;
      case 'M': return 1u << 4;
      case 'S': return 1u << 5;
      case 'z': return 1u << 6;
      default: return 0;
    }
  }

  std::string pattern_;
  std::vector<Piece> pieces_;
  uint32_t present_ = 0;  // Bit() of each conversion in the pattern
  size_t max_size_ = 0;   // upper bound of a formatted key's length
};

}  // namespace arbiter::time
