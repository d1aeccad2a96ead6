// An S3 client over HttpClient + SigV4: objects (put, get with ranges, head, delete, batch
// delete), ListObjectsV2 with paging, multipart upload, presigned GETs. Path-style or
// virtual-hosted addressing, AWS or a custom endpoint (S3-compatible stores). S3 error codes
// become Status codes with the S3 code and message kept. Retries belong to the HttpClient
// given (wrap it in RetryingHttpClient with S3RetryPolicy()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arbiter/aws/credentials.h"
#include "arbiter/aws/xml.h"
#include "arbiter/common/clock.h"
#include "arbiter/http/http.h"
#include "arbiter/http/retry.h"

namespace arbiter::aws {

struct S3Options {
  std::string region = "us-east-1";
  // Empty: https://s3.<region>.amazonaws.com. Otherwise e.g. "http://127.0.0.1:4568".
  std::string endpoint;
  // Path style puts the bucket in the path (needed by most emulators and dotted bucket names).
  bool path_style = false;
  // Sign "UNSIGNED-PAYLOAD" instead of hashing bodies (over TLS only, by convention).
  bool unsigned_payload = false;
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;  // S3 minimum is 5 MiB (except the last part)
  std::chrono::milliseconds timeout{300'000};
};

struct S3Object {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  std::string last_modified;
  std::string content_type;  // HeadObject/GetObject only
};

struct ListPage {
  std::vector<S3Object> objects;
  std::vector<std::string> common_prefixes;
  std::optional<std::string> next_continuation_token;  // set while truncated
};

struct ListRequest {
  std::string prefix;
  std::string delimiter;
  int max_keys = 1000;
  std::string continuation_token;
  std::string start_after;
};

struct PutOptions {
  std::string content_type;
  bool if_none_match = false;  // create only: fails with kAlreadyExists when the key exists
};

struct ByteRange {
  uint64_t first = 0;
  std::optional<uint64_t> last;  // inclusive; unset = to the end
};

// Retries S3's transient errors (503 SlowDown, 500 InternalError, 400 RequestTimeout) and
// names them in the final error.
http::RetryPolicy S3RetryPolicy();

// "Code: Message" of an S3 XML error body ("" when it is not one).
std::string DescribeS3Error(std::string_view body);
// The Status for an S3 error response.
Status S3ErrorStatus(const http::HttpResponse& response, std::string_view operation);

class S3Client {
 public:
  // Pointers must outlive the client.
  S3Client(http::HttpClient* http, CredentialsProvider* credentials, const Clock* clock,
           S3Options options);

  Status CreateBucket(const std::string& bucket);
  Result<std::string> PutObject(const std::string& bucket, const std::string& key,
                                std::string_view data, const PutOptions& options = {});  // ETag
  Result<std::string> GetObject(const std::string& bucket, const std::string& key,
                                std::optional<ByteRange> range = std::nullopt);
  Result<S3Object> HeadObject(const std::string& bucket, const std::string& key);
  Status DeleteObject(const std::string& bucket, const std::string& key);
  // Up to 1000 keys per request (batched here); any per-key error fails the call.
  Status DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys);
  Result<ListPage> ListObjectsV2(const std::string& bucket, const ListRequest& request);
  // Every page.
  Result<std::vector<S3Object>> ListAll(const std::string& bucket, const std::string& prefix);
  // Single PUT below the threshold, multipart above it (aborted on failure).
  Result<std::string> Upload(const std::string& bucket, const std::string& key, std::string_view data,
                             const PutOptions& options = {});
  Result<std::string> MultipartUpload(const std::string& bucket, const std::string& key,
                                      std::string_view data, const PutOptions& options = {});
  Result<std::string> PresignGet(const std::string& bucket, const std::string& key,
                                 std::chrono::seconds expires);

  // The URL for bucket/key (query without '?'), per the addressing style.
  std::string Url(const std::string& bucket, const std::string& key, const std::string& query = "") const;

 private:
  Result<http::HttpResponse> Send(http::HttpRequest request, std::string_view operation);
  Result<XmlElement> SendForXml(http::HttpRequest request, std::string_view operation);

  http::HttpClient* http_;
  CredentialsProvider* credentials_;
  const Clock* clock_;
  S3Options options_;
};

}  // namespace arbiter::aws
