#include "arbiter/aws/s3_blob_store.h"

#include <random>

#include "arbiter/crypto/crypto.h"

namespace arbiter::aws {

Result<std::optional<std::string>> S3BlobStore::Get(std::string_view key) {
  auto body = s3_->GetObject(bucket_, std::string(key));
  if (!body.ok()) {
    if (body.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return body.status();
  }
  return std::optional<std::string>(std::move(body).value());
}

Status S3BlobStore::Put(std::string_view key, std::string_view data) {
  return s3_->PutObject(bucket_, std::string(key), data, {"application/json", false}).status();
}

Result<std::vector<std::string>> S3BlobStore::List(std::string_view prefix) {
  ARBITER_ASSIGN_OR_RETURN(std::vector<S3Object> objects,
                           s3_->ListAll(bucket_, std::string(prefix) + "/"));
  std::vector<std::string> keys;
  keys.reserve(objects.size());
  for (auto& o : objects) keys.push_back(std::move(o.key));
  return keys;
}

Status S3BlobStore::Delete(std::string_view key) { return s3_->DeleteObject(bucket_, std::string(key)); }

void S3BlobStore::AddEndpoint(pipes::OrderedJson& params) const {
  if (!options_.endpoint.empty()) params["arbiter_s3_endpoint_url"] = options_.endpoint;
  if (options_.path_style) params["arbiter_s3_path_style"] = true;
  params["arbiter_s3_region"] = options_.region;
}

pipes::OrderedJson S3BlobStore::MessagesParams(std::string_view prefix) const {
  pipes::OrderedJson params = pipes::OrderedJson::object();
  params["bucket"] = bucket_;
  params["key_prefix"] = std::string(prefix);
  AddEndpoint(params);
  return params;
}

pipes::OrderedJson S3BlobStore::ContextParams(std::string_view key) const {
  pipes::OrderedJson params = pipes::OrderedJson::object();
  params["bucket"] = bucket_;
  params["key"] = std::string(key);
  AddEndpoint(params);
  return params;
}

std::string RandomRunPrefix(std::string_view base) {
  std::random_device rd;
  std::string bytes;
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>(rd() & 0xFF));
  std::string out(base);
  while (!out.empty() && out.back() == '/') out.pop_back();
  if (!out.empty()) out.push_back('/');
  return out + crypto::HexEncode(bytes);
}

}  // namespace arbiter::aws
