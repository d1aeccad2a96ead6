// AWS Signature Version 4 (HMAC-SHA256), written from the published algorithm: header signing
// and query signing (presigned URLs), with the generic-service rules (path normalisation,
// path encoded again) and S3's (no normalisation, the wire path used as is,
// x-amz-content-sha256, UNSIGNED-PAYLOAD). libcurl's built-in signer is not used: it does not
// sort query parameters.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/common/status.h"
#include "arbiter/http/http.h"

namespace arbiter::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::optional<TimePoint> expiration;  // temporary credentials only
};

struct SigningOptions {
  std::string region = "us-east-1";
  std::string service;
  TimePoint time{};
  // Generic services normalise the path and URI-encode it once more; S3 does neither.
  bool normalize_path = true;
  bool encode_path = true;
  // Adds a signed x-amz-content-sha256 header holding the payload hash (S3 requires it).
  bool add_content_sha256 = false;
  // The payload hash is the literal UNSIGNED-PAYLOAD (S3 only).
  bool unsigned_payload = false;
  // The session token is added after signing, unsigned (some services want that).
  bool omit_session_token = false;
  // Presigned URLs: X-Amz-Expires, 1..604800.
  std::chrono::seconds expires{3600};
};

// S3's rules for header signing (body hash in x-amz-content-sha256).
SigningOptions S3SigningOptions(std::string region, TimePoint time);

// The parts of a request SigV4 covers. `path` and `query` are as they go on the wire.
struct SignableRequest {
  std::string method;
  std::string path;
  std::string query;
  http::Headers headers;  // must include Host
  std::string body;
};

struct SigningResult {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
  std::string signed_headers;
  // Header signing: the request's headers plus X-Amz-Date, the token, x-amz-content-sha256
  // and Authorization. Query signing: unchanged headers.
  http::Headers headers;
  // Query signing: the full wire query including X-Amz-Signature. Header signing: unchanged.
  std::string query;
};

Result<SigningResult> SignWithHeaders(const SignableRequest& request, const Credentials& creds,
                                      const SigningOptions& options);
Result<SigningResult> SignWithQuery(const SignableRequest& request, const Credentials& creds,
                                    const SigningOptions& options);

// Signs an HttpRequest in place (Host is taken from the URL unless set).
Status SignHttpRequest(http::HttpRequest& request, const Credentials& creds,
                       const SigningOptions& options);
// A presigned URL for `method url` (signed headers: host only).
Result<std::string> PresignUrl(std::string_view method, std::string_view url,
                               const Credentials& creds, const SigningOptions& options);

// Building blocks, exposed for tests.
std::string AmzDate(TimePoint t);  // 20150830T123600Z
std::string NormalizePath(std::string_view path);
std::string CanonicalQuery(std::string_view query);
std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service);

}  // namespace arbiter::aws
