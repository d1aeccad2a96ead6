#include "arbiter/cli/command_context.h"

#include <filesystem>

#include "arbiter/common/strings.h"

namespace arbiter::cli {
namespace fs = std::filesystem;

std::string CommandContext::ResolveDir(const std::string& dir) const {
  fs::path base = env_.cwd.empty() ? fs::current_path() : fs::path(env_.cwd);
  fs::path p = flags_.directory.empty() ? base : base / flags_.directory;
  if (!dir.empty()) p = p / dir;
  return p.lexically_normal().string();
}

void CommandContext::PrintDiagnostics(const definitions::LoadResult& result) {
  for (const Diagnostic& d : result.diagnostics.all()) {
    err_ << RenderDiagnostic(d, result.SourceLine(d.location));
  }
}

nlohmann::json CommandContext::DiagnosticsJson(const Diagnostics& diags) {
  nlohmann::json list = nlohmann::json::array();
  for (const Diagnostic& d : diags.all()) {
    nlohmann::json j = {{"severity", d.severity == Severity::kError ? "error" : "warning"},
                        {"file", d.location.file},
                        {"line", d.location.line},
                        {"column", d.location.column},
                        {"message", d.message}};
    if (!d.hint.empty()) j["hint"] = d.hint;
    list.push_back(std::move(j));
  }
  return list;
}

std::unique_ptr<definitions::LoadResult> CommandContext::LoadOrReport() {
  Result<std::string> root = definitions::FindProjectRoot(ResolveDir(""));
  if (!root.ok()) {
    err_ << "error: " << root.status().message() << "\n";
    return nullptr;
  }
  definitions::LoadOptions options;
  options.now = env_.clock->Now();
  options.env = env_.env;
  // A runtime's unset token matters only when the runtime is used (placement
  // says so then); `arbiter check` still lists it.
  options.warn_unresolved_runtime_references = false;
  auto result = std::make_unique<definitions::LoadResult>(definitions::LoadProject(*root, options));
  const Diagnostics& d = result->diagnostics;
  if (d.has_errors()) {
    if (flags_.json) {
      // One JSON error (json_errors.h): the summary, then each problem on its line.
      err_ << "error: the project has " << d.error_count()
           << (d.error_count() == 1 ? " error" : " errors") << "; fix them and run again\n";
      for (const Diagnostic& diag : d.all()) {
        if (diag.severity != Severity::kError) continue;
        err_ << "  " << diag.location.ToString() << ": " << diag.message << "\n";
      }
      return nullptr;
    }
    PrintDiagnostics(*result);
    err_ << "error: the project has " << d.error_count()
         << (d.error_count() == 1 ? " error" : " errors")
         << "; fix them and run again (details: arbiter check)\n";
    return nullptr;
  }
  if (d.warning_count() > 0 && !flags_.json) {
    err_ << "note: " << d.warning_count() << (d.warning_count() == 1 ? " warning" : " warnings")
         << " in the project (details: arbiter check)\n";
  }
  return result;
}

const definitions::AssetDef* CommandContext::FindAssetOrReport(const definitions::Project& project,
                                                               const std::string& key) {
  if (const definitions::AssetDef* asset = project.FindAsset(key)) return asset;
  std::vector<std::string> names;
  for (const auto& [k, a] : project.assets) names.push_back(k.str());
  err() << "error: unknown asset " << Quote(key) << DidYouMean(key, names)
        << "\n  hint: 'arbiter assets' lists them\n";
  return nullptr;
}

}  // namespace arbiter::cli
