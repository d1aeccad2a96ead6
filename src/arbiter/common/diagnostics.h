// Diagnostics: problems found in user input, each with a precise location.
//
// Validation reports every problem it finds instead of stopping at the first,
// so a user fixes a broken project in one pass. A Diagnostic renders as
// "file:line:column: error: message" (1-based line and column), optionally
// followed by the offending source line, a caret, and a hint.
// Not thread-safe; one Diagnostics per load.
#pragma once

#include <string>
#include <vector>

namespace arbiter {

struct SourceLocation {
  std::string file;  // as the user should see it (relative to the project when possible)
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown

  std::string ToString() const;  // "file:line:column", omitting unknown parts
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation location;
  std::string message;
  std::string hint;  // optional: how to fix it
  // The source line holds a secret: never show it next to the message.
  bool redact_source = false;
};

class Diagnostics {
 public:
  void Error(SourceLocation loc, std::string message, std::string hint = "");
  void Warning(SourceLocation loc, std::string message, std::string hint = "");
  void Add(Diagnostic d);

  const std::vector<Diagnostic>& all() const { return items_; }
  int error_count() const { return errors_; }
  int warning_count() const { return static_cast<int>(items_.size()) - errors_; }
  bool has_errors() const { return errors_ > 0; }

  // Orders by file, line, column (stable), so output follows the source.
  void SortByLocation();

 private:
  std::vector<Diagnostic> items_;
  int errors_ = 0;
};

// Renders one diagnostic. When `source_line` is non-empty (and the diagnostic
// is not redacted) it is shown with a caret under the column, as compilers do.
std::string RenderDiagnostic(const Diagnostic& d, const std::string& source_line);

}  // namespace arbiter
