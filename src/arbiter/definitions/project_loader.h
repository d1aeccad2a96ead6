// LoadProject: reads arbiter.yaml (and the files it includes), validates
// everything, and builds a Project. It never stops at the first problem: all
// errors and warnings come back as Diagnostics with file:line:column, and the
// source lines they point at so the CLI can show them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/common/diagnostics.h"
#include "arbiter/definitions/project.h"
#include "arbiter/definitions/secret_ref.h"

namespace arbiter::definitions {

inline constexpr const char* kProjectFileName = "arbiter.yaml";

struct LoadOptions {
  TimePoint now{};                          // bounds time partitions without an end
  Environment env = Environment::System();  // for ${env:} / ${file:} checks
  // Warn about runtimes' references that do not resolve here. `arbiter check`
  // does; commands that only use some runtimes warn when they use one.
  bool warn_unresolved_runtime_references = true;
};

struct LoadResult {
  // Set when the project has no errors (warnings allowed).
  std::unique_ptr<Project> project;
  Diagnostics diagnostics;
  // file (as in diagnostics) -> its lines, for rendering excerpts.
  std::map<std::string, std::vector<std::string>> sources;

  std::string SourceLine(const SourceLocation& loc) const;
};

// Loads the project in directory `dir` (which must contain arbiter.yaml).
LoadResult LoadProject(const std::string& dir, const LoadOptions& options);

// Walks up from `start` to the first directory containing arbiter.yaml, like
// git does for .git. kNotFound with a hint if there is none.
Result<std::string> FindProjectRoot(const std::string& start);

}  // namespace arbiter::definitions
