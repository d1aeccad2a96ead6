// Lenient JSON parsing and Python-compatible JSON output for the pipes protocol.
#include "arbiter/pipes/json_util.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <system_error>
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
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\b':
          out += "\\b";
          break;
        case '\f':
          out += "\\f";
          break;
        default:
          AppendUnicodeEscape(out, c);
          break;
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
    case nlohmann::json::value_t::null:
      out += "null";
      break;
    case nlohmann::json::value_t::boolean:
      out += v.template get<bool>() ? "true" : "false";
      break;
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      out += v.dump();
      break;
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
    case nlohmann::json::value_t::discarded:
      out += "null";
      break;
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

// ---- JsonReader ----

namespace {

bool IsWs(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

JsonReader::JsonReader(std::string_view text, int max_depth)
    : p_(text.data()),
      begin_(text.data()),
      end_(text.data() + text.size()),
      max_depth_(max_depth) {}

bool JsonReader::Fail(JsonErrorKind kind, std::string_view what) {
  if (error_kind_ == JsonErrorKind::kNone) {
    error_kind_ = kind;
    error_ = std::string(what);
    error_ += " at byte ";
    error_ += std::to_string(p_ - begin_);
  }
  return false;
}

void JsonReader::SkipWs() {
  while (p_ < end_ && IsWs(*p_)) ++p_;
}

bool JsonReader::AtEnd() {
  SkipWs();
  return p_ == end_;
}

bool JsonReader::Literal(std::string_view word) {
  if (static_cast<std::size_t>(end_ - p_) < word.size() ||
      std::string_view(p_, word.size()) != word) {
    return Fail(JsonErrorKind::kSyntax, "invalid literal");
  }
  p_ += word.size();
  return true;
}

bool JsonReader::ParseString(std::string& out) {
  SkipWs();
  if (p_ == end_ || *p_ != '"') return Fail(JsonErrorKind::kSyntax, "expected a string");
  ++p_;
  out.clear();
  while (true) {
    // Copy the run up to the next quote, backslash or control character in one go.
    const char* run = p_;
    while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) {
      ++p_;
    }
    out.append(run, p_ - run);
    if (p_ == end_) return Fail(JsonErrorKind::kSyntax, "unterminated string");
    const char c = *p_++;
    if (c == '"') return true;
    if (c != '\\') {
      --p_;
      return Fail(JsonErrorKind::kSyntax, "control character in string");
    }
    if (p_ == end_) return Fail(JsonErrorKind::kSyntax, "unterminated escape");
    switch (*p_++) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto hex4 = [this](uint32_t* v) {
          if (end_ - p_ < 4) return false;
          *v = 0;
          for (int i = 0; i < 4; ++i) {
            const int h = HexValue(p_[i]);
            if (h < 0) return false;
            *v = (*v << 4) | static_cast<uint32_t>(h);
          }
          p_ += 4;
          return true;
        };
        uint32_t cp;
        if (!hex4(&cp)) return Fail(JsonErrorKind::kSyntax, "bad \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF && end_ - p_ >= 6 && p_[0] == '\\' && p_[1] == 'u') {
          const char* save = p_;
          p_ += 2;
          uint32_t lo;
          if (hex4(&lo) && lo >= 0xDC00 && lo <= 0xDFFF) {
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            p_ = save;
          }
        }
        // A lone surrogate (Python can write one) becomes U+FFFD: strings stay valid UTF-8.
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
        AppendUtf8(out, cp);
        break;
      }
      default:
        --p_;
        return Fail(JsonErrorKind::kSyntax, "bad escape");
    }
  }
}

bool JsonReader::ParseNumber(Json& out) {
  const char* start = p_;
  bool is_float = false;
  if (p_ < end_ && *p_ == '-') ++p_;
  if (p_ < end_ && *p_ == '0') {
    ++p_;
  } else if (p_ < end_ && *p_ >= '1' && *p_ <= '9') {
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  } else {
    return Fail(JsonErrorKind::kSyntax, "invalid number");
  }
  if (p_ < end_ && *p_ == '.') {
    is_float = true;
    ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return Fail(JsonErrorKind::kSyntax, "invalid number");
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    is_float = true;
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return Fail(JsonErrorKind::kSyntax, "invalid number");
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
  }
  if (!is_float) {
    // Integers stay integers (the int/float distinction is part of the protocol); only
    // values beyond 64 bits fall back to a float.
    if (*start == '-') {
      int64_t v;
      auto [ptr, ec] = std::from_chars(start, p_, v);
      if (ec == std::errc() && ptr == p_) {
        out = v;
        return true;
      }
    } else {
      uint64_t v;
      auto [ptr, ec] = std::from_chars(start, p_, v);
      if (ec == std::errc() && ptr == p_) {
        out = v;
        return true;
      }
    }
  }
  double d;
  auto [ptr, ec] = std::from_chars(start, p_, d);
  if (ec == std::errc::result_out_of_range) {
    // Python reads 1e999 as inf and 1e-999 as 0.0; strtod does the same.
    const std::string token(start, p_);
    d = std::strtod(token.c_str(), nullptr);
  } else if (ec != std::errc() || ptr != p_) {
    return Fail(JsonErrorKind::kSyntax, "invalid number");
  }
  out = d;
  return true;
}

bool JsonReader::ParseValue(Json& out) { return ParseValueAt(out, 0); }

bool JsonReader::ParseValueAt(Json& out, int depth) {
  SkipWs();
  if (p_ == end_) return Fail(JsonErrorKind::kSyntax, "unexpected end of input");
  switch (*p_) {
    case '{': {
      if (depth >= max_depth_) return Fail(JsonErrorKind::kTooDeep, "nested too deeply");
      ++p_;
      out = Json::object();
      auto& obj = out.get_ref<Json::object_t&>();
      SkipWs();
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        return true;
      }
      std::string key;
      while (true) {
        if (!ParseString(key)) return false;
        SkipWs();
        if (p_ == end_ || *p_ != ':') return Fail(JsonErrorKind::kSyntax, "expected ':'");
        ++p_;
        Json value;
        if (!ParseValueAt(value, depth + 1)) return false;
        obj.insert_or_assign(std::move(key), std::move(value));  // last duplicate wins
        SkipWs();
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          continue;
        }
        if (p_ < end_ && *p_ == '}') {
          ++p_;
          return true;
        }
        return Fail(JsonErrorKind::kSyntax, "expected ',' or '}'");
      }
    }
    case '[': {
      if (depth >= max_depth_) return Fail(JsonErrorKind::kTooDeep, "nested too deeply");
      ++p_;
      out = Json::array();
      auto& arr = out.get_ref<Json::array_t&>();
      SkipWs();
      if (p_ < end_ && *p_ == ']') {
        ++p_;
        return true;
      }
      while (true) {
        arr.emplace_back();
        if (!ParseValueAt(arr.back(), depth + 1)) return false;
        SkipWs();
        if (p_ < end_ && *p_ == ',') {
          ++p_;
          continue;
        }
        if (p_ < end_ && *p_ == ']') {
          ++p_;
          return true;
        }
        return Fail(JsonErrorKind::kSyntax, "expected ',' or ']'");
      }
    }
    case '"': {
      std::string s;
      if (!ParseString(s)) return false;
      out = std::move(s);
      return true;
    }
    case 't':
      out = true;
      return Literal("true");
    case 'f':
      out = false;
      return Literal("false");
    case 'n':
      out = nullptr;
      return Literal("null");
    case 'N':
      out = std::numeric_limits<double>::quiet_NaN();
      return Literal("NaN");
    case 'I':
      out = std::numeric_limits<double>::infinity();
      return Literal("Infinity");
    case '-':
      if (end_ - p_ > 1 && p_[1] == 'I') {
        ++p_;
        out = -std::numeric_limits<double>::infinity();
        return Literal("Infinity");
      }
      return ParseNumber(out);
    default:
      if (*p_ >= '0' && *p_ <= '9') return ParseNumber(out);
      return Fail(JsonErrorKind::kSyntax, "unexpected character");
  }
}

bool JsonReader::BeginObject() {
  SkipWs();
  if (p_ == end_ || *p_ != '{') return Fail(JsonErrorKind::kSyntax, "expected an object");
  ++p_;
  first_member_ = true;
  return true;
}

bool JsonReader::NextMember(std::string& key) {
  SkipWs();
  if (p_ < end_ && *p_ == '}') {
    ++p_;
    return false;
  }
  if (!first_member_) {
    if (p_ == end_ || *p_ != ',') return Fail(JsonErrorKind::kSyntax, "expected ',' or '}'");
    ++p_;
  }
  first_member_ = false;
  if (!ParseString(key)) return false;
  SkipWs();
  if (p_ == end_ || *p_ != ':') return Fail(JsonErrorKind::kSyntax, "expected ':'");
  ++p_;
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
  JsonReader reader(text, options.max_depth);
  Json value;
  if (reader.ParseValue(value) && !reader.AtEnd()) {
    reader.Fail(JsonErrorKind::kSyntax, "trailing characters");
  }
  if (reader.failed()) {
    *error_kind = reader.error_kind();
    return InvalidArgumentError("not JSON: " + reader.error());
  }
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
