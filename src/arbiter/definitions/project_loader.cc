#include <cstdint>
#include "arbiter/definitions/project_loader.h"

#include <algorithm>
#include <filesystem>
#include <fnmatch.h>
#include <fstream>
#include <set>
#include <sstream>

#include "arbiter/common/strings.h"
#include "arbiter/definitions/project_sections.h"

namespace arbiter::definitions {
namespace fs = std::filesystem;
using internal::Section;

namespace {

const std::vector<std::string> kRootKeys = {"project",    "include", "storage",   "defaults",
                                            "partitions", "assets",  "runtimes",  "pricing",
                                            "schedules",  "pools",   "placement", "service"};
const std::vector<std::string> kIncludedKeys = {"include", "partitions", "assets", "runtimes",
                                                "pricing", "schedules",  "pools"};

struct File {
  std::unique_ptr<YamlReader> reader;
  std::unique_ptr<yaml::Document> document;  // owns the nodes `root` points into
  yaml::Node root;
};

class Loader {
 public:
  Loader(fs::path root, const LoadOptions& options, LoadResult* result)
      : root_(std::move(root)), options_(options), result_(result) {}

  void Run() {
    auto project = std::make_unique<Project>();
    project->root = root_.string();
    if (!LoadFile(root_ / kProjectFileName, SourceLocation{}, /*is_root=*/true)) return;

    std::vector<Section> partitions, runtimes, assets, pricing, schedules, pools;
    internal::Defaults defaults;
    for (const File& f : files_) {
      const YamlReader& r = *f.reader;
      project->files.push_back(r.file());
      if (!f.root.IsMap()) continue;
      auto add = [&](const char* key, std::vector<Section>* into) {
        yaml::Node n = r.Get(f.root, key);
        if (n.IsDefined() && !n.IsNull()) into->push_back({&r, n});
      };
      add("partitions", &partitions);
      add("runtimes", &runtimes);
      add("assets", &assets);
      add("pricing", &pricing);
      add("schedules", &schedules);
      add("pools", &pools);
    }
    const File& main = files_.front();
    if (main.root.IsMap()) {
      const YamlReader& r = *main.reader;
      if (auto name = r.String(main.root, "project")) project->name = *name;
      if (auto storage = r.String(main.root, "storage")) {
        const std::string& url = *storage;
        bool sqlite = url.rfind("sqlite:", 0) == 0 && url.size() > 7;
        bool postgres = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
        if (!sqlite && !postgres) {
          // SecretError: a URL may carry a password, so its line is never shown.
          r.SecretError(r.Get(main.root, "storage"), "unsupported storage URL scheme",
                  "use sqlite:PATH (relative to the project, e.g. sqlite:.arbiter/arbiter.db) or "
                  "postgresql://HOST/DB");
        } else if (postgres && url.find('@') != std::string::npos &&
                   url.find("${") == std::string::npos) {
          r.SecretError(r.Get(main.root, "storage"),
                        "the storage URL contains credentials; give them by reference",
                        "e.g. postgresql://arbiter:${env:PGPASSWORD}@db.internal/arbiter");
        }
        project->storage_url = url;
      }
      yaml::Node pl = r.Get(main.root, "placement");
      if (pl.IsDefined() && !pl.IsNull() &&
          r.CheckKeys(pl, "'placement' (project settings)", {"explore_budget", "seed"})) {
        project->placement.location = r.Loc(pl);
        if (auto v = r.Number(pl, "explore_budget", 0, 0.99)) project->placement.explore_budget = *v;
        if (auto v = r.Int(pl, "seed", 0, INT64_MAX)) {
          project->placement.seed = static_cast<uint64_t>(*v);
        }
      }
      yaml::Node d = r.Get(main.root, "defaults");
      if (d.IsDefined() && !d.IsNull()) internal::ParseDefaults({&r, d}, &defaults);
      yaml::Node svc = r.Get(main.root, "service");
      if (svc.IsDefined() && !svc.IsNull()) internal::ParseService({&r, svc}, project.get());
    }
    if (project->name.empty()) project->name = root_.filename().string();

    std::map<AssetKey, internal::AssetRefs> refs;
    std::map<std::string, std::vector<std::pair<std::string, SourceLocation>>> schedule_assets;
    internal::ParsePartitions(partitions, options_.now, project.get());
    internal::ParseRuntimes(runtimes, project.get());
    internal::ParseAssets(assets, root_.string(), project.get(), &refs);
    internal::ParsePricing(pricing, project.get());
    internal::ParseSchedules(schedules, project.get(), &schedule_assets);
    internal::ParsePools(pools, project.get());
    // A file that could not be read or parsed leaves its definitions out; checking
    // references against the rest would only add errors that its fix removes.
    if (!files_missing_) {
      internal::LinkProject(defaults, refs, schedule_assets, options_.env, project.get(),
                            &result_->diagnostics);
      if (options_.warn_unresolved_runtime_references) {
        internal::CheckRuntimeReferences(*project, options_.env, &result_->diagnostics);
      }
    }
    if (project->assets.empty() && !result_->diagnostics.has_errors()) {
      result_->diagnostics.Warning({DisplayName(root_ / kProjectFileName), 0, 0},
                                   "the project defines no assets",
                                   "add an 'assets:' section; see docs/project-file.md");
    }
    if (!result_->diagnostics.has_errors()) result_->project = std::move(project);
  }

 private:
  // Path as shown in diagnostics: relative to the project root when inside it.
  std::string DisplayName(const fs::path& p) const {
    std::error_code ec;
    fs::path rel = fs::relative(p, root_, ec);
    if (ec || rel.empty() || *rel.begin() == "..") return p.string();
    return rel.string();
  }

  bool LoadFile(const fs::path& path, const SourceLocation& included_from, bool is_root) {
    std::string display = DisplayName(path);
    fs::path canonical = fs::weakly_canonical(path);
    if (!loaded_.insert(canonical.string()).second) {
      result_->diagnostics.Error(included_from, "file " + Quote(display) + " is included twice",
                                 "each file may be included once; remove the repeated include");
      return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      files_missing_ = true;
      if (is_root) {
        result_->diagnostics.Error({display, 0, 0}, "cannot read " + Quote(display),
                                   "run 'arbiter init DIR' to create a project, or pass -C DIR");
      } else {
        result_->diagnostics.Error(included_from, "included file " + Quote(display) + " not found");
      }
      return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    auto& lines = result_->sources[display];
    lines = Split(text, '\n');
    for (auto& l : lines) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
    }

    File file;
    file.reader = std::make_unique<YamlReader>(display, &result_->diagnostics);
    yaml::ParseError error;
    file.document = yaml::Document::Parse(text, &error);
    if (!file.document) {
      files_missing_ = true;
      result_->diagnostics.Error({display, error.mark.line + 1, error.mark.column + 1},
                                 "YAML syntax error: " + error.message,
                                 "check indentation and that brackets and quotes are closed");
      return false;
    }
    file.root = file.document->root();
    const YamlReader& r = *file.reader;
    if (!file.root.IsNull()) {
      r.CheckKeys(file.root, is_root ? "the project file" : "an included file",
                  is_root ? kRootKeys : kIncludedKeys);
    }
    yaml::Node includes = r.Get(file.root, "include");
    files_.push_back(std::move(file));
    if (includes.IsDefined() && !includes.IsNull()) {
      for (const auto& [pattern, node] : r.StringListNodes(files_.back().root, "include")) {
        Include(path.parent_path(), pattern, r, node);
      }
    }
    return true;
  }

  // Includes a path or a glob in its last component ("assets/*.yaml").
  void Include(const fs::path& dir, const std::string& pattern, const YamlReader& r,
               const yaml::Node& node) {
    fs::path p = dir / pattern;
    fs::path canonical = fs::weakly_canonical(p);
    std::string rel = fs::relative(canonical, fs::weakly_canonical(root_)).string();
    if (rel.rfind("..", 0) == 0 || fs::path(pattern).is_absolute()) {
      r.Error(node, "include " + Quote(pattern) + " points outside the project directory",
              "included files must live inside the project so the project is self-contained");
      return;
    }
    std::string name = p.filename().string();
    if (name.find_first_of("*?[") == std::string::npos) {
      LoadFile(p, r.Loc(node), false);
      return;
    }
    std::vector<fs::path> matches;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(p.parent_path(), ec)) {
      if (entry.is_regular_file() &&
          fnmatch(name.c_str(), entry.path().filename().c_str(), 0) == 0) {
        matches.push_back(entry.path());
      }
    }
    std::sort(matches.begin(), matches.end());
    if (matches.empty()) {
      r.Warning(node, "include pattern " + Quote(pattern) + " matches no files");
    }
    for (const auto& m : matches) LoadFile(m, r.Loc(node), false);
  }

  fs::path root_;
  const LoadOptions& options_;
  LoadResult* result_;
  std::vector<File> files_;
  bool files_missing_ = false;  // a file could not be read or parsed
  std::set<std::string> loaded_;
};

}  // namespace

std::string LoadResult::SourceLine(const SourceLocation& loc) const {
  auto it = sources.find(loc.file);
  if (it == sources.end() || loc.line <= 0 || loc.line > static_cast<int>(it->second.size())) {
    return "";
  }
  return it->second[loc.line - 1];
}

LoadResult LoadProject(const std::string& dir, const LoadOptions& options) {
  LoadResult result;
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec);
  if (ec || !fs::is_directory(root)) {
    result.diagnostics.Error({dir, 0, 0}, "project directory " + Quote(dir) + " does not exist");
    return result;
  }
  Loader(root.lexically_normal(), options, &result).Run();
  result.diagnostics.SortByLocation();
  return result;
}

Result<std::string> FindProjectRoot(const std::string& start) {
  std::error_code ec;
  fs::path p = fs::absolute(start, ec);
  if (ec) return NotFoundError("cannot resolve " + Quote(start));
  p = p.lexically_normal();
  for (fs::path cur = p; !cur.empty(); cur = cur.parent_path()) {
    if (fs::exists(cur / kProjectFileName)) return cur.string();
    if (cur == cur.root_path()) break;
  }
  return NotFoundError("no arbiter.yaml in " + p.string() +
                       " or any parent directory; run 'arbiter init DIR' or pass -C DIR");
}

}  // namespace arbiter::definitions
