// Lenient JSON parsing and Python-compatible JSON output for the pipes protocol.
#include "arbiter/pipes/json_util.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <vector>

namespace arbiter::pipes {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not valid.
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return 1;
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b0 == 0xE0 && b1 < 0xA0) return 0;  // overlong
    if (b0 == 0xED && b1 > 0x9F) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b0 == 0xF0 && b1 < 0x90) return 0;  // overlong
    if (b0 == 0xF4 && b1 > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

// Placeholders for the non-finite tokens nlohmann rejects. They start with NUL, which a
// real-world string practically never does; the worst a forged one can do is become a NaN.
using std::string_view_literals::operator""sv;
constexpr std::string_view kNanSentinel = "\0arbiter:NaN"sv;
constexpr std::string_view kInfSentinel = "\0arbiter:Infinity"sv;
constexpr std::string_view kNegInfSentinel = "\0arbiter:-Infinity"sv;

struct ScanResult {
  bool has_nonfinite = false;
  int max_depth = 0;
};

// One pass outside strings: nesting depth and whether bare N/I tokens occur.
ScanResult Scan(std::string_view s) {
  ScanResult r;
  bool in_string = false;
  bool escaped = false;
  int depth = 0;
  for (char c : s) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > r.max_depth) r.max_depth = depth;
        break;
      case ']':
      case '}': --depth; break;
      case 'N':
      case 'I': r.has_nonfinite = true; break;
      default: break;
    }
  }
  return r;
}

// Copies `s`, replacing bare NaN / Infinity / -Infinity tokens by sentinel strings.
std::string RewriteNonFinite(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 64);
  bool in_string = false;
  bool escaped = false;
  auto emit_sentinel = [&out](std::string_view sentinel) {
    out += "\"\\u0000";
    out += sentinel.substr(1);
    out += '"';
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      out += c;
      continue;
    }
    if (c == '"') in_string = true;
    if (c == 'N' && s.substr(i, 3) == "NaN") {
      emit_sentinel(kNanSentinel);
      i += 2;
    } else if (c == '-' && s.substr(i, 9) == "-Infinity") {
      emit_sentinel(kNegInfSentinel);
      i += 8;
    } else if (c == 'I' && s.substr(i, 8) == "Infinity") {
      emit_sentinel(kInfSentinel);
      i += 7;
    } else {
      out += c;
    }
  }
  return out;
}

// Turns sentinel strings back into non-finite floats. Iterative: depth is bounded anyway,
// but an explicit stack keeps this independent of that bound.
void RestoreNonFinite(Json& root) {
  std::vector<Json*> stack{&root};
  while (!stack.empty()) {
    Json* v = stack.back();
    stack.pop_back();
    if (v->is_string()) {
      const auto& str = v->get_ref<const std::string&>();
      if (str == kNanSentinel) {
        *v = std::numeric_limits<double>::quiet_NaN();
      } else if (str == kInfSentinel) {
        *v = std::numeric_limits<double>::infinity();
      } else if (str == kNegInfSentinel) {
        *v = -std::numeric_limits<double>::infinity();
      }
    } else if (v->is_structured()) {
      for (auto& child : *v) stack.push_back(&child);
    }
  }
}

void AppendUnicodeEscape(std::string& out, uint32_t unit) {
  // `unit` is one UTF-16 code unit; the mask lets GCC see it fits in 4 digits.
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\u%04x", unit & 0xFFFFu);
  out += buf;
}

// Python's ensure_ascii string encoding.
void AppendPythonString(std::string& out, std::string_view s) {
  out += '"';
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      if (c == '"') {
        out += "\\\"";
      } else if (c == '\\') {
        out += "\\\\";
      } else {
        out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    if (c < 0x80) {
      switch (c) {
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: AppendUnicodeEscape(out, c); break;
      }
      ++i;
      continue;
    }
    const std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {  // not produced by Python; substitute U+FFFD like errors="replace"
      AppendUnicodeEscape(out, 0xFFFD);
      ++i;
      continue;
    }
    uint32_t cp = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (s[i + k] & 0x3F);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      AppendUnicodeEscape(out, 0xD800 + (cp >> 10));
      AppendUnicodeEscape(out, 0xDC00 + (cp & 0x3FF));
    } else {
      AppendUnicodeEscape(out, cp);
    }
    i += len;
  }
  out += '"';
}

template <typename J>
void AppendPython(std::string& out, const J& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: out += "null"; break;
    case nlohmann::json::value_t::boolean: out += v.template get<bool>() ? "true" : "false"; break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: out += v.dump(); break;
    case nlohmann::json::value_t::number_float: {
      const double d = v.template get<double>();
      if (std::isnan(d)) {
        out += "NaN";
      } else if (std::isinf(d)) {
        out += d > 0 ? "Infinity" : "-Infinity";
      } else {
        out += v.dump();  // shortest round-trip repr, same rules as Python's float repr
      }
      break;
    }
    case nlohmann::json::value_t::string:
      AppendPythonString(out, v.template get_ref<const std::string&>());
      break;
    case nlohmann::json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ", ";
        first = false;
        AppendPython(out, e);
      }
      out += ']';
      break;
    }
    case nlohmann::json::value_t::object: {
      out += '{';
      bool first = true;
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!first) out += ", ";
        first = false;
        AppendPythonString(out, it.key());
        out += ": ";
        AppendPython(out, it.value());
      }
      out += '}';
      break;
    }
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded: out += "null"; break;
  }
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    // ASCII fast path, 8 bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if (word & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= s.size()) break;
    const std::size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

Result<Json> ParseJsonLenient(std::string_view text, JsonErrorKind* error_kind,
                              const JsonParseOptions& options) {
  JsonErrorKind ignored;
  if (error_kind == nullptr) error_kind = &ignored;
  *error_kind = JsonErrorKind::kNone;
  if (!IsValidUtf8(text)) {
    *error_kind = JsonErrorKind::kInvalidUtf8;
    return InvalidArgumentError("invalid UTF-8");
  }
  const ScanResult scan = Scan(text);
  if (scan.max_depth > options.max_depth) {
    *error_kind = JsonErrorKind::kTooDeep;
    return InvalidArgumentError("JSON nested deeper than " + std::to_string(options.max_depth));
  }
  std::string rewritten;
  if (scan.has_nonfinite) {
    rewritten = RewriteNonFinite(text);
    text = rewritten;
  }
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    *error_kind = JsonErrorKind::kSyntax;
    // Rare path: parse again to get nlohmann's description of the error.
    try {
      Json unused = Json::parse(text.begin(), text.end());
      (void)unused;
    } catch (const nlohmann::json::exception& e) {
      return InvalidArgumentError(std::string("not JSON: ") + e.what());
    }
    return InvalidArgumentError("not JSON");
  }
  if (scan.has_nonfinite) RestoreNonFinite(value);
  return value;
}

std::string DumpPythonStyle(const OrderedJson& value) {
  std::string out;
  AppendPython(out, value);
  return out;
}

std::string DumpPythonStyle(const Json& value) {
  std::string out;
  AppendPython(out, value);
  return out;
}

std::string Excerpt(std::string_view s, std::size_t max_bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < s.size() && i < max_bytes) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    const std::size_t len = c >= 0x80 ? Utf8SequenceLength(s, i) : 0;
    if (len > 0 && i + len <= max_bytes) {
      out.append(s.substr(i, len));
      i += len;
      continue;
    }
    if (len > 0) break;  // a character that would straddle the cut
    char buf[8];
    std::snprintf(buf, sizeof(buf), "\\x%02x", c);
    out += buf;
    ++i;
  }
  if (i < s.size()) out += "...";
  return out;
}

}  // namespace arbiter::pipes
