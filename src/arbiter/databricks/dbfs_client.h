// DBFS API 2.0: files as base64 in JSON. Uploads over 1 MiB go create → add-block (≤ 1 MiB
// each) → close; reads are at most 1 MiB per call. Paths are absolute DBFS paths ("/a/b").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/databricks/rest_client.h"

namespace arbiter::databricks {

struct DbfsFileInfo {
  std::string path;
  bool is_dir = false;
  int64_t file_size = 0;
  int64_t modification_time_ms = 0;
};

class DbfsClient {
 public:
  static constexpr size_t kMaxBlock = 1 << 20;

  explicit DbfsClient(RestClient* rest) : rest_(rest) {}

  // Writes the whole file (overwriting). A failed multi-block upload starts over, since
  // add-block appends and is not safe to repeat.
  Status Put(const std::string& path, std::string_view data);
  // At most `length` (≤ 1 MiB) bytes from `offset`; nullopt when the file does not exist.
  Result<std::optional<std::string>> Read(const std::string& path, int64_t offset,
                                          int64_t length = kMaxBlock);
  // The whole file, or nullopt.
  Result<std::optional<std::string>> ReadAll(const std::string& path);
  Result<std::optional<DbfsFileInfo>> GetStatus(const std::string& path);
  // Entries of a directory (a file lists itself); nullopt when it does not exist.
  Result<std::optional<std::vector<DbfsFileInfo>>> List(const std::string& path);
  Status Mkdirs(const std::string& path);
  Status Delete(const std::string& path, bool recursive);

 private:
  Status PutBlocks(const std::string& path, std::string_view data);
  RestClient* rest_;
};

}  // namespace arbiter::databricks
