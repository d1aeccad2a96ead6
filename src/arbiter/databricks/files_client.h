// Files API for Unity Catalog volumes (/api/2.0/fs/files and /directories): raw bytes, Range
// reads, paged directory listings. Paths are "/Volumes/<catalog>/<schema>/<volume>/...",
// percent-encoded with '/' kept. Any 2xx is success (the docs do not pin 200 vs 204).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/databricks/rest_client.h"

namespace arbiter::databricks {

struct VolumeEntry {
  std::string path;
  bool is_directory = false;
  int64_t file_size = 0;
};

class FilesClient {
 public:
  explicit FilesClient(RestClient* rest) : rest_(rest) {}

  Status Upload(const std::string& path, std::string_view data);  // overwrites
  // From `offset` to the end; nullopt when the file does not exist.
  Result<std::optional<std::string>> Download(const std::string& path, int64_t offset = 0);
  // The file's size, or nullopt when it does not exist.
  Result<std::optional<int64_t>> Size(const std::string& path);
  Status DeleteFile(const std::string& path);  // a missing file is fine
  Status CreateDirectory(const std::string& path);
  // Every entry of the directory (all pages); nullopt when it does not exist.
  Result<std::optional<std::vector<VolumeEntry>>> ListDirectory(const std::string& path);
  Status DeleteDirectory(const std::string& path);  // only empty ones; missing is fine

 private:
  Result<http::HttpResponse> Call(std::string method, std::string_view kind,
                                  const std::string& path, const Query& query, std::string body,
                                  http::Headers headers, bool idempotent);
  RestClient* rest_;
};

}  // namespace arbiter::databricks
