#include "arbiter/common/duration.h"

#include <cctype>
#include <limits>

#include "arbiter/common/strings.h"

namespace arbiter {

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  const std::string hint = " (expected e.g. 90s, 45m, 2h, 1h30m, 1d)";
  if (text.empty()) return InvalidArgumentError("empty duration" + hint);
  static constexpr struct {
    char unit;
    int64_t seconds;
  } kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  int64_t total = 0;
  size_t i = 0;
  int next_unit = 0;  // units must appear largest first, each once
  while (i < text.size()) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) {
      return InvalidArgumentError("invalid duration " + Quote(text) + hint);
    }
    int64_t n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (n > std::numeric_limits<int64_t>::max() / 10 / 86400) {
        return InvalidArgumentError("duration " + Quote(text) + " is too large");
      }
      n = n * 10 + (text[i] - '0');
      ++i;
    }
    if (i == text.size()) {
      return InvalidArgumentError("duration " + Quote(text) + " lacks a unit" + hint);
    }
    int u = next_unit;
    while (u < 4 && kUnits[u].unit != text[i]) ++u;
    if (u == 4) {
      return InvalidArgumentError("invalid duration unit in " + Quote(text) + hint);
    }
    total += n * kUnits[u].seconds;
    next_unit = u + 1;
    ++i;
  }
  if (total <= 0) return InvalidArgumentError("duration " + Quote(text) + " must be positive");
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds d) {
  int64_t s = d.count();
  if (s == 0) return "0s";
  std::string out;
  if (s < 0) {
    out = "-";
    s = -s;
  }
  static constexpr struct {
    char unit;
    int64_t seconds;
  } kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
  for (const auto& u : kUnits) {
    if (s >= u.seconds) {
      out += std::to_string(s / u.seconds) + u.unit;
      s %= u.seconds;
    }
  }
  return out;
}

}  // namespace arbiter
