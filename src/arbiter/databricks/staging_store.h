// The runtime's staging area on Databricks: a DBFS directory (dbfs:/...) or a Unity Catalog
// volume directory (/Volumes/...). It holds the job code (content-addressed), the pipes
// context and message chunks, and the cluster's delivered logs. As a pipes::BlobStore it
// serves BlobContextInjector and BlobChunkMessageReader unchanged; keys are relative to the
// staging root. The job reaches the same objects through the cluster's FUSE mounts (/dbfs,
// /Volumes), which is what the pipes params name. Thread-safe as its client is.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "arbiter/databricks/dbfs_client.h"
#include "arbiter/databricks/files_client.h"
#include "arbiter/pipes/channels.h"

namespace arbiter::databricks {

class StagingStore : public pipes::BlobStore {
 public:
  // Bytes of `key` from `offset` to its end; nullopt when it does not exist.
  virtual Result<std::optional<std::string>> ReadFrom(std::string_view key, int64_t offset) = 0;
  virtual Result<std::optional<int64_t>> Size(std::string_view key) = 0;
  // How the API names `key` (dbfs:/root/key, /Volumes/.../key) and how the job sees it
  // (/dbfs/root/key, /Volumes/.../key).
  virtual std::string Uri(std::string_view key) const = 0;
  virtual std::string FusePath(std::string_view key) const = 0;
  // A cluster_log_conf delivering into `key`.
  virtual nlohmann::json ClusterLogConf(std::string_view key) const = 0;

  // {"path": FusePath(prefix), "include_stdio_in_messages": false, "arbiter_blob_chunks": true}
  pipes::OrderedJson MessagesParams(std::string_view prefix) const override;
  // {"path": FusePath(key)}
  pipes::OrderedJson ContextParams(std::string_view key) const override;
};

// The store for a runtime's `staging` setting: "dbfs:/path" or "/Volumes/c/s/v/path"; an
// error that says what is accepted otherwise. `rest` must outlive the store.
Result<std::unique_ptr<StagingStore>> MakeStagingStore(std::string_view staging, RestClient* rest);

class DbfsStagingStore final : public StagingStore {
 public:
  DbfsStagingStore(RestClient* rest, std::string root);  // root: "/a/b", no trailing slash

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  Result<std::optional<std::string>> ReadFrom(std::string_view key, int64_t offset) override;
  Result<std::optional<int64_t>> Size(std::string_view key) override;
  std::string Uri(std::string_view key) const override;
  std::string FusePath(std::string_view key) const override;
  nlohmann::json ClusterLogConf(std::string_view key) const override;

 private:
  std::string PathOf(std::string_view key) const;
  DbfsClient dbfs_;
  std::string root_;
};

class VolumeStagingStore final : public StagingStore {
 public:
  VolumeStagingStore(RestClient* rest, std::string root);  // root: "/Volumes/c/s/v[/...]"

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  Result<std::optional<std::string>> ReadFrom(std::string_view key, int64_t offset) override;
  Result<std::optional<int64_t>> Size(std::string_view key) override;
  std::string Uri(std::string_view key) const override;
  std::string FusePath(std::string_view key) const override { return Uri(key); }
  nlohmann::json ClusterLogConf(std::string_view key) const override;

 private:
  FilesClient files_;
  std::string root_;
};

}  // namespace arbiter::databricks
