#include "arbiter/databricks/staging_store.h"

#include <algorithm>

namespace arbiter::databricks {
namespace {

std::string Join(const std::string& root, std::string_view key) {
  std::string k(key);
  while (!k.empty() && k.front() == '/') k.erase(0, 1);
  return k.empty() ? root : root + "/" + k;
}

std::string TrimSlashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Keys under `prefix` relative to `root`, from absolute paths.
std::string KeyOf(const std::string& root, const std::string& path) {
  return path.size() > root.size() + 1 ? path.substr(root.size() + 1) : "";
}

}  // namespace

pipes::OrderedJson StagingStore::MessagesParams(std::string_view prefix) const {
  pipes::OrderedJson p = pipes::OrderedJson::object();
  p["path"] = FusePath(prefix);
  p["include_stdio_in_messages"] = false;
  p["arbiter_blob_chunks"] = true;
  return p;
}

pipes::OrderedJson StagingStore::ContextParams(std::string_view key) const {
  pipes::OrderedJson p = pipes::OrderedJson::object();
  p["path"] = FusePath(key);
  return p;
}

Result<std::unique_ptr<StagingStore>> MakeStagingStore(std::string_view staging,
                                                        RestClient* rest) {
  std::string s(staging);
  if (s.rfind("dbfs:/", 0) == 0) {
    std::string root = TrimSlashes(s.substr(5));
    if (root == "/") return InvalidArgumentError("staging dbfs:/ is the DBFS root; use a folder");
    return std::unique_ptr<StagingStore>(new DbfsStagingStore(rest, root));
  }
  if (s.rfind("/Volumes/", 0) == 0) {
    std::string root = TrimSlashes(s);
    if (std::count(root.begin(), root.end(), '/') < 4) {
      return InvalidArgumentError("staging " + s +
                                  " is not inside a volume: use /Volumes/<catalog>/<schema>/"
                                  "<volume>[/folder]");
    }
    return std::unique_ptr<StagingStore>(new VolumeStagingStore(rest, root));
  }
  return InvalidArgumentError("staging '" + s +
                              "' is neither a DBFS path (dbfs:/...) nor a Unity Catalog volume "
                              "path (/Volumes/<catalog>/<schema>/<volume>/...)");
}

// ---- DBFS ----

DbfsStagingStore::DbfsStagingStore(RestClient* rest, std::string root)
    : dbfs_(rest), root_(std::move(root)) {}

std::string DbfsStagingStore::PathOf(std::string_view key) const { return Join(root_, key); }

Result<std::optional<std::string>> DbfsStagingStore::Get(std::string_view key) {
  return dbfs_.ReadAll(PathOf(key));
}

Status DbfsStagingStore::Put(std::string_view key, std::string_view data) {
  return dbfs_.Put(PathOf(key), data);
}

Result<std::vector<std::string>> DbfsStagingStore::List(std::string_view prefix) {
  std::vector<std::string> keys;
  std::vector<std::string> dirs = {PathOf(prefix)};
  while (!dirs.empty()) {
    std::string dir = dirs.back();
    dirs.pop_back();
    ARBITER_ASSIGN_OR_RETURN(auto entries, dbfs_.List(dir));
    if (!entries) continue;
    for (const DbfsFileInfo& f : *entries) {
      if (f.is_dir) {
        dirs.push_back(f.path);
      } else if (f.path.rfind(root_ + "/", 0) == 0) {
        keys.push_back(KeyOf(root_, f.path));
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status DbfsStagingStore::Delete(std::string_view key) { return dbfs_.Delete(PathOf(key), false); }

Result<std::optional<std::string>> DbfsStagingStore::ReadFrom(std::string_view key,
                                                              int64_t offset) {
  std::string out;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> part,
                             dbfs_.Read(PathOf(key), offset + static_cast<int64_t>(out.size())));
    if (!part) return out.empty() ? std::optional<std::string>() : std::optional(out);
    out += *part;
    if (part->size() < DbfsClient::kMaxBlock) return std::optional<std::string>(std::move(out));
  }
}

Result<std::optional<int64_t>> DbfsStagingStore::Size(std::string_view key) {
  ARBITER_ASSIGN_OR_RETURN(std::optional<DbfsFileInfo> info, dbfs_.GetStatus(PathOf(key)));
  if (!info) return std::optional<int64_t>();
  return std::optional<int64_t>(info->file_size);
}

std::string DbfsStagingStore::Uri(std::string_view key) const { return "dbfs:" + PathOf(key); }

std::string DbfsStagingStore::FusePath(std::string_view key) const {
  return "/dbfs" + PathOf(key);
}

nlohmann::json DbfsStagingStore::ClusterLogConf(std::string_view key) const {
  return {{"dbfs", {{"destination", Uri(key)}}}};
}

// ---- Unity Catalog volumes ----

VolumeStagingStore::VolumeStagingStore(RestClient* rest, std::string root)
    : files_(rest), root_(std::move(root)) {}

Result<std::optional<std::string>> VolumeStagingStore::Get(std::string_view key) {
  return files_.Download(Join(root_, key));
}

Status VolumeStagingStore::Put(std::string_view key, std::string_view data) {
  return files_.Upload(Join(root_, key), data);
}

Result<std::vector<std::string>> VolumeStagingStore::List(std::string_view prefix) {
  std::vector<std::string> keys;
  std::vector<std::string> dirs = {Join(root_, prefix)};
  while (!dirs.empty()) {
    std::string dir = dirs.back();
    dirs.pop_back();
    ARBITER_ASSIGN_OR_RETURN(auto entries, files_.ListDirectory(dir));
    if (!entries) continue;
    for (const VolumeEntry& e : *entries) {
      if (e.is_directory) {
        dirs.push_back(e.path);
      } else if (e.path.rfind(root_ + "/", 0) == 0) {
        keys.push_back(KeyOf(root_, e.path));
      }
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

Status VolumeStagingStore::Delete(std::string_view key) {
  return files_.DeleteFile(Join(root_, key));
}

Result<std::optional<std::string>> VolumeStagingStore::ReadFrom(std::string_view key,
                                                                int64_t offset) {
  return files_.Download(Join(root_, key), offset);
}

Result<std::optional<int64_t>> VolumeStagingStore::Size(std::string_view key) {
  return files_.Size(Join(root_, key));
}

std::string VolumeStagingStore::Uri(std::string_view key) const { return Join(root_, key); }

nlohmann::json VolumeStagingStore::ClusterLogConf(std::string_view key) const {
  return {{"volumes", {{"destination", Uri(key)}}}};
}

}  // namespace arbiter::databricks
