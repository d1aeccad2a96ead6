// Pipes over S3: the pipes BlobStore on an S3 bucket, so BlobChunkMessageReader and
// BlobContextInjector work unchanged. The job's clients find chunks by {"bucket",
// "key_prefix"} (as Dagster's S3 message writer does) and the context by {"bucket", "key"};
// for S3-compatible endpoints the params also carry arbiter_s3_endpoint_url/_path_style.
#pragma once

#include <string>

#include "arbiter/aws/s3_client.h"
#include "arbiter/pipes/channels.h"

namespace arbiter::aws {

class S3BlobStore final : public pipes::BlobStore {
 public:
  // Keys are used as given (no root prefix): callers pass a per-run prefix.
  S3BlobStore(S3Client* s3, std::string bucket, S3Options options)
      : s3_(s3), bucket_(std::move(bucket)), options_(std::move(options)) {}

  Result<std::optional<std::string>> Get(std::string_view key) override;
  Status Put(std::string_view key, std::string_view data) override;
  Result<std::vector<std::string>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  pipes::OrderedJson MessagesParams(std::string_view prefix) const override;
  pipes::OrderedJson ContextParams(std::string_view key) const override;

 private:
  void AddEndpoint(pipes::OrderedJson& params) const;

  S3Client* s3_;
  std::string bucket_;
  S3Options options_;
};

// "<base>/<16 random hex digits>": a fresh prefix per run, so runs never read each other's
// chunks and clean-up can delete everything under it.
std::string RandomRunPrefix(std::string_view base);

}  // namespace arbiter::aws
