// JSON helpers shared by the pipes module: a lenient parser (accepts the bare NaN/Infinity
// tokens Python's json.dumps writes, reports invalid UTF-8 and excessive nesting as such) and a
// serializer that reproduces Python json.dumps defaults byte for byte (needed for the params
// test vectors). Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

namespace arbiter::pipes {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Why a text failed to parse; lets callers turn failures into precise warning kinds.
enum class JsonErrorKind { kNone, kInvalidUtf8, kTooDeep, kSyntax };

struct JsonParseOptions {
  // Arrays/objects nested deeper than this are rejected (keeps later recursive walks safe).
  int max_depth = 256;
};

// A recursive-descent JSON reader over one text: standard JSON plus the NaN / Infinity /
// -Infinity tokens, integers kept apart from floats (non-negative -> unsigned, negative ->
// signed, beyond 64 bits -> float), depth-limited. The input must already be valid UTF-8
// (ParseJsonLenient checks). Besides whole values it can walk the members of a top-level
// object, which lets the message parser skip building a DOM for the envelope.
class JsonReader {
 public:
  explicit JsonReader(std::string_view text, int max_depth = 256);

  bool ParseValue(Json& out);
  bool ParseString(std::string& out);
  // Consumes '{'; then NextMember yields each key (positioned at its value) until '}'.
  bool BeginObject();
  bool NextMember(std::string& key);
  // True if only whitespace remains.
  bool AtEnd();
  // Records the first error (later ones are ignored); always returns false.
  bool Fail(JsonErrorKind kind, std::string_view what);

  bool failed() const { return error_kind_ != JsonErrorKind::kNone; }
  JsonErrorKind error_kind() const { return error_kind_; }
  const std::string& error() const { return error_; }

 private:
  bool ParseValueAt(Json& out, int depth);
  bool ParseNumber(Json& out);
  bool Literal(std::string_view word);
  void SkipWs();

  const char* p_;
  const char* begin_;
  const char* end_;
  int max_depth_;
  bool first_member_ = true;
  JsonErrorKind error_kind_ = JsonErrorKind::kNone;
  std::string error_;
};

// Parses `text` as one JSON value. On failure returns InvalidArgument and sets *error_kind.
Result<Json> ParseJsonLenient(std::string_view text, JsonErrorKind* error_kind = nullptr,
                              const JsonParseOptions& options = {});

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// Python json.dumps(value) with default arguments: ", " and ": " separators, non-ASCII escaped
// as \uXXXX, NaN/Infinity as bare tokens, keys in the object's own order.
std::string DumpPythonStyle(const OrderedJson& value);
std::string DumpPythonStyle(const Json& value);

// First `max_bytes` bytes of `s` (cut on a UTF-8 boundary), control characters escaped, with
// "..." appended when cut. For warning excerpts.
std::string Excerpt(std::string_view s, std::size_t max_bytes);

}  // namespace arbiter::pipes
