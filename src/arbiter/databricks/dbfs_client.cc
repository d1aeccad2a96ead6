#include "arbiter/databricks/dbfs_client.h"

#include "arbiter/pipes/params.h"

namespace arbiter::databricks {
namespace {

constexpr const char* kDbfs = "/api/2.0/dbfs/";

Result<DbfsFileInfo> ParseFileInfo(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("path") || !j["path"].is_string()) {
    return InternalError("DBFS: a file info without a path");
  }
  DbfsFileInfo f;
  f.path = j["path"].get<std::string>();
  f.is_dir = j.value("is_dir", false);
  f.file_size = j.value("file_size", int64_t{0});
  f.modification_time_ms = j.value("modification_time", int64_t{0});
  return f;
}

}  // namespace

Status DbfsClient::Put(const std::string& path, std::string_view data) {
  if (data.size() <= kMaxBlock) {
    nlohmann::json body = {
        {"path", path}, {"contents", pipes::Base64Encode(data)}, {"overwrite", true}};
    return rest_->Post(std::string(kDbfs) + "put", body, /*idempotent=*/true).status();
  }
  Status s;
  for (int attempt = 0; attempt < 3; ++attempt) {
    s = PutBlocks(path, data);
    if (s.ok() || (s.code() != StatusCode::kUnavailable &&
                   s.code() != StatusCode::kResourceExhausted)) {
      break;
    }
  }
  return s;
}

Status DbfsClient::PutBlocks(const std::string& path, std::string_view data) {
  ARBITER_ASSIGN_OR_RETURN(nlohmann::json created,
                           rest_->Post(std::string(kDbfs) + "create",
                                       {{"path", path}, {"overwrite", true}}, true));
  if (!created.contains("handle") || !created["handle"].is_number_integer()) {
    return InternalError("DBFS create: the response has no handle");
  }
  const int64_t handle = created["handle"].get<int64_t>();
  for (size_t at = 0; at < data.size(); at += kMaxBlock) {
    nlohmann::json block = {{"handle", handle},
                            {"data", pipes::Base64Encode(data.substr(at, kMaxBlock))}};
    ARBITER_RETURN_IF_ERROR(rest_->Post(std::string(kDbfs) + "add-block", block, false).status());
  }
  return rest_->Post(std::string(kDbfs) + "close", {{"handle", handle}}, false).status();
}

Result<std::optional<std::string>> DbfsClient::Read(const std::string& path, int64_t offset,
                                                    int64_t length) {
  Result<nlohmann::json> r = rest_->Get(std::string(kDbfs) + "read",
                                        {{"path", path},
                                         {"offset", std::to_string(offset)},
                                         {"length", std::to_string(length)}});
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
  ARBITER_RETURN_IF_ERROR(r.status());
  if (!r->contains("data") || !(*r)["data"].is_string()) {
    return InternalError("DBFS read " + path + ": the response has no data");
  }
  ARBITER_ASSIGN_OR_RETURN(std::string bytes, pipes::Base64Decode((*r)["data"].get<std::string>()));
  return std::optional<std::string>(std::move(bytes));
}

Result<std::optional<std::string>> DbfsClient::ReadAll(const std::string& path) {
  std::string all;
  while (true) {
    ARBITER_ASSIGN_OR_RETURN(std::optional<std::string> part,
                             Read(path, static_cast<int64_t>(all.size())));
    if (!part) return all.empty() ? std::optional<std::string>() : std::optional(all);
    all += *part;
    if (part->size() < kMaxBlock) return std::optional<std::string>(std::move(all));
  }
}

Result<std::optional<DbfsFileInfo>> DbfsClient::GetStatus(const std::string& path) {
  Result<nlohmann::json> r = rest_->Get(std::string(kDbfs) + "get-status", {{"path", path}});
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) return std::optional<DbfsFileInfo>();
  ARBITER_RETURN_IF_ERROR(r.status());
  ARBITER_ASSIGN_OR_RETURN(DbfsFileInfo info, ParseFileInfo(*r));
  return std::optional<DbfsFileInfo>(std::move(info));
}

Result<std::optional<std::vector<DbfsFileInfo>>> DbfsClient::List(const std::string& path) {
  Result<nlohmann::json> r = rest_->Get(std::string(kDbfs) + "list", {{"path", path}});
  if (!r.ok() && r.status().code() == StatusCode::kNotFound) {
    return std::optional<std::vector<DbfsFileInfo>>();
  }
  ARBITER_RETURN_IF_ERROR(r.status());
  std::vector<DbfsFileInfo> files;
  auto it = r->find("files");  // an empty directory has no "files" at all
  if (it != r->end() && it->is_array()) {
    for (const nlohmann::json& f : *it) {
      ARBITER_ASSIGN_OR_RETURN(DbfsFileInfo info, ParseFileInfo(f));
      files.push_back(std::move(info));
    }
  }
  return std::optional<std::vector<DbfsFileInfo>>(std::move(files));
}

Status DbfsClient::Mkdirs(const std::string& path) {
  return rest_->Post(std::string(kDbfs) + "mkdirs", {{"path", path}}, true).status();
}

Status DbfsClient::Delete(const std::string& path, bool recursive) {
  return rest_->Post(std::string(kDbfs) + "delete", {{"path", path}, {"recursive", recursive}}, true)
      .status();
}

}  // namespace arbiter::databricks
