#include "arbiter/databricks/files_client.h"

namespace arbiter::databricks {
namespace {

bool Ok(int status) { return status >= 200 && status <= 299; }

}  // namespace

Result<http::HttpResponse> FilesClient::Call(std::string method, std::string_view kind,
                                             const std::string& path, const Query& query,
                                             std::string body, http::Headers headers,
                                             bool idempotent) {
  if (path.rfind("/Volumes/", 0) != 0) {
    return InvalidArgumentError("not a Unity Catalog volume path: " + path +
                                " (expected /Volumes/<catalog>/<schema>/<volume>/...)");
  }
  std::string url = "/api/2.0/fs/" + std::string(kind) + http::UriEncode(path, true);
  if (!query.empty()) url += "?" + EncodeQuery(query);
  return rest_->Raw(std::move(method), url, std::move(body), std::move(headers), idempotent);
}

Status FilesClient::Upload(const std::string& path, std::string_view data) {
  ARBITER_ASSIGN_OR_RETURN(
      http::HttpResponse r,
      Call("PUT", "files", path, {{"overwrite", "true"}}, std::string(data),
           {{"Content-Type", "application/octet-stream"}}, true));
  if (!Ok(r.status)) return DatabricksErrorStatus(r.status, r.body).WithContext("upload " + path);
  return Status::Ok();
}

Result<std::optional<std::string>> FilesClient::Download(const std::string& path, int64_t offset) {
  http::Headers headers;
  if (offset > 0) headers.emplace_back("Range", "bytes=" + std::to_string(offset) + "-");
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse r,
                           Call("GET", "files", path, {}, "", std::move(headers), true));
  if (r.status == 404) return std::optional<std::string>();
  if (r.status == 416) return std::optional<std::string>("");  // nothing past `offset`
  if (!Ok(r.status)) return DatabricksErrorStatus(r.status, r.body).WithContext("download " + path);
  // A server that ignores Range sends the whole file.
  if (offset > 0 && r.status == 200) {
    return std::optional<std::string>(r.body.size() > static_cast<size_t>(offset)
                                          ? r.body.substr(static_cast<size_t>(offset))
                                          : "");
  }
  return std::optional<std::string>(std::move(r.body));
}

Result<std::optional<int64_t>> FilesClient::Size(const std::string& path) {
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse r, Call("HEAD", "files", path, {}, "", {}, true));
  if (r.status == 404) return std::optional<int64_t>();
  if (!Ok(r.status)) return DatabricksErrorStatus(r.status, "").WithContext("head " + path);
  std::optional<std::string> length = r.Header("Content-Length");
  if (!length) return InternalError("head " + path + ": no Content-Length");
  return std::optional<int64_t>(std::stoll(*length));
}

Status FilesClient::DeleteFile(const std::string& path) {
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse r, Call("DELETE", "files", path, {}, "", {}, true));
  if (!Ok(r.status) && r.status != 404) {
    return DatabricksErrorStatus(r.status, r.body).WithContext("delete " + path);
  }
  return Status::Ok();
}

Status FilesClient::CreateDirectory(const std::string& path) {
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse r,
                           Call("PUT", "directories", path, {}, "", {}, true));
  if (!Ok(r.status)) return DatabricksErrorStatus(r.status, r.body).WithContext("mkdir " + path);
  return Status::Ok();
}

Status FilesClient::DeleteDirectory(const std::string& path) {
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse r,
                           Call("DELETE", "directories", path, {}, "", {}, true));
  if (!Ok(r.status) && r.status != 404) {
    return DatabricksErrorStatus(r.status, r.body).WithContext("rmdir " + path);
  }
  return Status::Ok();
}

Result<std::optional<std::vector<VolumeEntry>>> FilesClient::ListDirectory(
    const std::string& path) {
  std::vector<VolumeEntry> entries;
  std::string token;
  do {
    Query query = {{"page_size", "1000"}};
    if (!token.empty()) query.emplace_back("page_token", token);
    ARBITER_ASSIGN_OR_RETURN(http::HttpResponse r,
                             Call("GET", "directories", path, query, "", {}, true));
    if (r.status == 404) return std::optional<std::vector<VolumeEntry>>();
    if (!Ok(r.status)) return DatabricksErrorStatus(r.status, r.body).WithContext("list " + path);
    nlohmann::json doc = nlohmann::json::parse(r.body, nullptr, false);
    if (!doc.is_object()) return InternalError("list " + path + ": not a JSON object");
    if (doc.contains("contents") && doc["contents"].is_array()) {
      for (const nlohmann::json& e : doc["contents"]) {
        if (!e.is_object() || !e.contains("path") || !e["path"].is_string()) continue;
        entries.push_back({e["path"].get<std::string>(), e.value("is_directory", false),
                           e.value("file_size", int64_t{0})});
      }
    }
    token = doc.value("next_page_token", std::string());
  } while (!token.empty());
  return std::optional<std::vector<VolumeEntry>>(std::move(entries));
}

}  // namespace arbiter::databricks
