#include "arbiter/common/diagnostics.h"

#include <algorithm>
#include <tuple>

namespace arbiter {

std::string SourceLocation::ToString() const {
  std::string out = file.empty() ? "<input>" : file;
  if (line > 0) {
    out.append(":").append(std::to_string(line));
    if (column > 0) out.append(":").append(std::to_string(column));
  }
  return out;
}

void Diagnostics::Error(SourceLocation loc, std::string message, std::string hint) {
  items_.push_back({Severity::kError, std::move(loc), std::move(message), std::move(hint)});
  ++errors_;
}

void Diagnostics::Warning(SourceLocation loc, std::string message, std::string hint) {
  items_.push_back({Severity::kWarning, std::move(loc), std::move(message), std::move(hint)});
}

void Diagnostics::Add(Diagnostic d) {
  if (d.severity == Severity::kError) ++errors_;
  items_.push_back(std::move(d));
}

void Diagnostics::SortByLocation() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.location.file, a.location.line, a.location.column) <
           std::tie(b.location.file, b.location.line, b.location.column);
  });
}

std::string RenderDiagnostic(const Diagnostic& d, const std::string& source_line) {
  // append() rather than operator+: GCC 12 at -O3 reports a false -Wrestrict
  // on `"literal" + std::string&&` (this file and SourceLocation::ToString).
  std::string out = d.location.ToString();
  out.append(d.severity == Severity::kError ? ": error: " : ": warning: ");
  out.append(d.message).append("\n");
  if (!source_line.empty() && !d.redact_source) {
    out.append("  ").append(source_line).append("\n");
    if (d.location.column > 0) {
      out.append("  ");
      // Keep tabs so the caret lines up with the source.
      for (int i = 0; i < d.location.column - 1 && i < static_cast<int>(source_line.size()); ++i) {
        out.push_back(source_line[static_cast<size_t>(i)] == '\t' ? '\t' : ' ');
      }
      out.append("^\n");
    }
  }
  if (!d.hint.empty()) out.append("  hint: ").append(d.hint).append("\n");
  return out;
}

}  // namespace arbiter
