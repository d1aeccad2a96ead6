#include "arbiter/storage/open_storage.h"

#include <filesystem>

#include "arbiter/storage/sqlite_storage.h"

namespace arbiter::storage {

Result<std::string> SqlitePathFromUrl(const std::string& url, const std::string& project_root) {
  std::string spec = url.empty() ? kDefaultStorageUrl : url;
  if (spec.rfind("postgresql://", 0) == 0 || spec.rfind("postgres://", 0) == 0) {
    return UnimplementedError("PostgreSQL storage is not implemented yet (" +
                              spec.substr(0, spec.find(':')) +
                              " URL given); use sqlite:PATH for now");
  }
  if (spec.rfind("sqlite://", 0) == 0) {
    spec = spec.substr(9);
  } else if (spec.rfind("sqlite:", 0) == 0) {
    spec = spec.substr(7);
  } else if (spec.find("://") != std::string::npos) {
    return InvalidArgumentError("unsupported storage URL '" + spec +
                                "': use sqlite:PATH (or a plain path)");
  }
  if (spec.empty()) return InvalidArgumentError("storage URL '" + url + "' names no file");
  std::filesystem::path p(spec);
  if (p.is_relative() && spec != ":memory:") p = std::filesystem::path(project_root) / p;
  return p.lexically_normal().string();
}

Result<std::unique_ptr<Storage>> OpenStorage(const std::string& url,
                                             const std::string& project_root) {
  ARBITER_ASSIGN_OR_RETURN(std::string path, SqlitePathFromUrl(url, project_root));
  ARBITER_ASSIGN_OR_RETURN(std::unique_ptr<SqliteStorage> s, SqliteStorage::Open(path));
  return std::unique_ptr<Storage>(std::move(s));
}

}  // namespace arbiter::storage
