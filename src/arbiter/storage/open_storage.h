// Opens the storage a project (or --storage) names. URLs: `sqlite:PATH`
// (relative to the project directory), a plain path, or `postgresql://...`
// (not implemented yet: a clear error). Empty means `sqlite:.arbiter/arbiter.db`.
#pragma once

#include <memory>
#include <string>

#include "arbiter/storage/storage.h"

namespace arbiter::storage {

inline constexpr const char* kDefaultStorageUrl = "sqlite:.arbiter/arbiter.db";

// The SQLite file a URL names, resolved against `project_root`; an error for
// other schemes.
Result<std::string> SqlitePathFromUrl(const std::string& url, const std::string& project_root);

Result<std::unique_ptr<Storage>> OpenStorage(const std::string& url,
                                             const std::string& project_root);

}  // namespace arbiter::storage
