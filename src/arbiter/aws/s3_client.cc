#include "arbiter/aws/s3_client.h"

#include <algorithm>

#include "arbiter/crypto/crypto.h"
#include "arbiter/aws/xml.h"
#include "arbiter/http/redact.h"

namespace arbiter::aws {
namespace {

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

Result<uint64_t> ParseSize(const std::string& s, std::string_view what) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return UnavailableError("S3: bad " + std::string(what) + " '" + s.substr(0, 32) + "'");
  }
  return std::stoull(s);
}

}  // namespace

std::string DescribeS3Error(std::string_view body) {
  auto xml = ParseXml(body);
  if (!xml.ok() || xml->name != "Error") return "";
  std::string out = xml->ChildText("Code");
  const std::string message = xml->ChildText("Message");
  if (!message.empty()) out += (out.empty() ? "" : ": ") + message;
  return out;
}

Status S3ErrorStatus(const http::HttpResponse& r, std::string_view operation) {
  std::string code;
  std::string message;
  std::string request_id;
  if (auto xml = ParseXml(r.body); xml.ok() && xml->name == "Error") {
    code = xml->ChildText("Code");
    message = xml->ChildText("Message");
    request_id = xml->ChildText("RequestId");
  }
  if (code.empty()) {  // HEAD errors have no body; some proxies answer HTML
    switch (r.status) {
      case 404: code = "NotFound"; break;
      case 403: code = "Forbidden"; break;
      case 412: code = "PreconditionFailed"; break;
      default: code = "HTTP" + std::to_string(r.status);
    }
  }
  std::string text = "S3 " + std::string(operation) + ": " + code;
  if (!message.empty()) text += ": " + message;
  text += " (HTTP " + std::to_string(r.status);
  if (!request_id.empty()) text += ", request id " + request_id;
  text += ")";
  StatusCode sc;
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload" || code == "NotFound") {
    sc = StatusCode::kNotFound;
  } else if (code == "AccessDenied" || code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" ||
             code == "Forbidden" || code == "InvalidToken") {
    sc = StatusCode::kPermissionDenied;
  } else if (code == "ExpiredToken" || code == "TokenRefreshRequired") {
    sc = StatusCode::kPermissionDenied;
    text += "; the session token expired: refresh the credentials";
  } else if (code == "RequestTimeTooSkewed") {
    sc = StatusCode::kFailedPrecondition;
    text += "; this machine's clock is more than 15 minutes off: fix it (NTP)";
  } else if (code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" ||
             code == "IllegalLocationConstraintException") {
    sc = StatusCode::kFailedPrecondition;
    text += "; the bucket is in another region than the one configured";
  } else if (code == "PreconditionFailed" || code == "ConditionalRequestConflict") {
    sc = r.status == 412 ? StatusCode::kAlreadyExists : StatusCode::kFailedPrecondition;
  } else if (code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists") {
    sc = StatusCode::kAlreadyExists;
  } else if (code == "SlowDown") {
    sc = StatusCode::kResourceExhausted;
  } else if (r.status >= 500) {
    sc = StatusCode::kUnavailable;
  } else if (r.status == 416 || code == "InvalidRange") {
    sc = StatusCode::kInvalidArgument;
  } else {
    sc = StatusCode::kInvalidArgument;
  }
  return Status(sc, http::ScrubKnownSecrets(text));
}

http::RetryPolicy S3RetryPolicy() {
  http::RetryPolicy p;
  p.is_transient_error = [](const http::HttpResponse& r) {
    const std::string d = DescribeS3Error(r.body);
    return d.starts_with("RequestTimeout") || d.starts_with("SlowDown") ||
           d.starts_with("InternalError");
  };
  p.describe_error = [](const http::HttpResponse& r) {
    std::string d = DescribeS3Error(r.body);
    return d.empty() ? r.body.substr(0, 200) : d;
  };
  return p;
}

S3Client::S3Client(http::HttpClient* http, CredentialsProvider* credentials, const Clock* clock,
                   S3Options options)
    : http_(http), credentials_(credentials), clock_(clock), options_(std::move(options)) {
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') options_.endpoint.pop_back();
}

std::string S3Client::Url(const std::string& bucket, const std::string& key,
                          const std::string& query) const {
  std::string scheme = "https";
  std::string host = "s3." + options_.region + ".amazonaws.com";
  if (!options_.endpoint.empty()) {
    const size_t p = options_.endpoint.find("://");
    scheme = options_.endpoint.substr(0, p);
    host = options_.endpoint.substr(p + 3);
  }
  std::string url = scheme + "://";
  std::string path = "/";
  if (options_.path_style) {
    url += host;
    path += http::UriEncode(bucket, false);
    if (!key.empty()) path += "/" + http::UriEncode(key, true);
  } else {
    url += bucket + "." + host;
    path += http::UriEncode(key, true);
  }
  url += path;
  if (!query.empty()) url += "?" + query;
  return url;
}

Result<http::HttpResponse> S3Client::Send(http::HttpRequest request, std::string_view operation) {
  ARBITER_ASSIGN_OR_RETURN(Credentials creds, credentials_->Get());
  if (creds.expiration && *creds.expiration <= clock_->Now()) {
    return Status(StatusCode::kPermissionDenied, "S3 " + std::string(operation) +
                                                     ": the AWS credentials have expired");
  }
  request.timeout = options_.timeout;
  SigningOptions signing = S3SigningOptions(options_.region, clock_->Now());
  signing.unsigned_payload = options_.unsigned_payload;
  ARBITER_RETURN_IF_ERROR(SignHttpRequest(request, creds, signing));
  auto response = http_->Send(request);
  if (!response.ok()) return response.status().WithContext("S3 " + std::string(operation));
  if (response->status >= 300) return S3ErrorStatus(*response, operation);
  return response;
}

Result<XmlElement> S3Client::SendForXml(http::HttpRequest request, std::string_view operation) {
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse r, Send(std::move(request), operation));
  auto xml = ParseXml(r.body);
  if (!xml.ok()) {
    return UnavailableError("S3 " + std::string(operation) + ": response is not valid XML (" +
                            xml.status().message() + ")");
  }
  // S3 can answer 200 and put the error in the body (CompleteMultipartUpload, CopyObject).
  if (xml->name == "Error") return S3ErrorStatus(http::HttpResponse{500, r.headers, r.body}, operation);
  return std::move(xml).value();
}

Status S3Client::CreateBucket(const std::string& bucket) {
  http::HttpRequest r;
  r.method = "PUT";
  r.url = Url(bucket, "");
  if (options_.region != "us-east-1") {
    r.body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
             "<LocationConstraint>" + XmlEscape(options_.region) +
             "</LocationConstraint></CreateBucketConfiguration>";
  }
  return Send(std::move(r), "CreateBucket").status();
}

Result<std::string> S3Client::PutObject(const std::string& bucket, const std::string& key,
                                        std::string_view data, const PutOptions& options) {
  http::HttpRequest r;
  r.method = "PUT";
  r.url = Url(bucket, key);
  r.body = std::string(data);
  if (!options.content_type.empty()) r.headers.emplace_back("Content-Type", options.content_type);
  if (options.if_none_match) r.headers.emplace_back("If-None-Match", "*");
  r.headers.emplace_back("Content-MD5", crypto::Base64Encode(crypto::Md5(data)));
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse resp, Send(std::move(r), "PutObject"));
  return Unquote(resp.Header("ETag").value_or(""));
}

Result<std::string> S3Client::GetObject(const std::string& bucket, const std::string& key,
                                        std::optional<ByteRange> range) {
  http::HttpRequest r;
  r.url = Url(bucket, key);
  if (range) {
    std::string v = "bytes=" + std::to_string(range->first) + "-";
    if (range->last) v += std::to_string(*range->last);
    r.headers.emplace_back("Range", v);
  }
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse resp, Send(std::move(r), "GetObject"));
  // A truncated body (connection cut, proxy) must not pass for the object.
  if (auto len = resp.Header("Content-Length"); len && resp.Header("Content-Encoding").value_or("").empty()) {
    auto n = ParseSize(*len, "Content-Length");
    if (n.ok() && *n != resp.body.size()) {
      return UnavailableError("S3 GetObject: body has " + std::to_string(resp.body.size()) +
                              " bytes, Content-Length says " + *len + " (truncated)");
    }
  }
  return std::move(resp.body);
}

Result<S3Object> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  http::HttpRequest r;
  r.method = "HEAD";
  r.url = Url(bucket, key);
  ARBITER_ASSIGN_OR_RETURN(http::HttpResponse resp, Send(std::move(r), "HeadObject"));
  S3Object o;
  o.key = key;
  ARBITER_ASSIGN_OR_RETURN(o.size, ParseSize(resp.Header("Content-Length").value_or(""), "HeadObject Content-Length"));
  o.etag = Unquote(resp.Header("ETag").value_or(""));
  o.last_modified = resp.Header("Last-Modified").value_or("");
  o.content_type = resp.Header("Content-Type").value_or("");
  return o;
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) {
  http::HttpRequest r;
  r.method = "DELETE";
  r.url = Url(bucket, key);
  return Send(std::move(r), "DeleteObject").status();
}

Status S3Client::DeleteObjects(const std::string& bucket, const std::vector<std::string>& keys) {
  for (size_t start = 0; start < keys.size(); start += 1000) {
    std::string body = "<Delete><Quiet>true</Quiet>";
    for (size_t i = start; i < std::min(keys.size(), start + 1000); ++i) {
      body += "<Object><Key>" + XmlEscape(keys[i]) + "</Key></Object>";
    }
    body += "</Delete>";
    http::HttpRequest r;
    r.method = "POST";
    r.idempotent = true;  // deleting twice is harmless
    r.url = Url(bucket, "", "delete=");
    r.headers = {{"Content-Type", "application/xml"},
                 {"Content-MD5", crypto::Base64Encode(crypto::Md5(body))}};
    r.body = std::move(body);
    ARBITER_ASSIGN_OR_RETURN(XmlElement xml, SendForXml(std::move(r), "DeleteObjects"));
    for (const XmlElement& e : xml.children) {
      if (e.name == "Error") {
        return Status(StatusCode::kUnavailable, "S3 DeleteObjects: " + e.ChildText("Key") + ": " +
                                                    e.ChildText("Code") + ": " + e.ChildText("Message"));
      }
    }
  }
  return Status::Ok();
}

Result<ListPage> S3Client::ListObjectsV2(const std::string& bucket, const ListRequest& req) {
  // Parameters in any order: the signer sorts them.
  std::string q = "list-type=2&encoding-type=url&max-keys=" + std::to_string(req.max_keys);
  auto add = [&](const char* name, const std::string& v) {
    if (!v.empty()) q += std::string("&") + name + "=" + http::UriEncode(v, false);
  };
  add("prefix", req.prefix);
  add("delimiter", req.delimiter);
  add("continuation-token", req.continuation_token);
  add("start-after", req.start_after);
  http::HttpRequest r;
  r.url = Url(bucket, "", q);
  ARBITER_ASSIGN_OR_RETURN(XmlElement xml, SendForXml(std::move(r), "ListObjectsV2"));
  if (xml.name != "ListBucketResult") {
    return UnavailableError("S3 ListObjectsV2: unexpected <" + xml.name + "> response");
  }
  const bool url_encoded = xml.ChildText("EncodingType") == "url";
  auto decode = [&](const std::string& s) { return url_encoded ? http::UriDecode(s) : s; };
  ListPage page;
  for (const XmlElement& e : xml.children) {
    if (e.name == "Contents") {
      S3Object o;
      o.key = decode(e.ChildText("Key"));
      if (o.key.empty()) return UnavailableError("S3 ListObjectsV2: <Contents> without <Key>");
      ARBITER_ASSIGN_OR_RETURN(o.size, ParseSize(e.ChildText("Size"), "ListObjectsV2 Size"));
      o.etag = Unquote(e.ChildText("ETag"));
      o.last_modified = e.ChildText("LastModified");
      page.objects.push_back(std::move(o));
    } else if (e.name == "CommonPrefixes") {
      page.common_prefixes.push_back(decode(e.ChildText("Prefix")));
    }
  }
  if (xml.ChildText("IsTruncated") == "true") {
    std::string token = xml.ChildText("NextContinuationToken");
    if (token.empty()) {
      return UnavailableError("S3 ListObjectsV2: truncated listing without NextContinuationToken");
    }
    page.next_continuation_token = std::move(token);
  }
  return page;
}

Result<std::vector<S3Object>> S3Client::ListAll(const std::string& bucket, const std::string& prefix) {
  std::vector<S3Object> all;
  ListRequest req;
  req.prefix = prefix;
  for (int pages = 0;; ++pages) {
    if (pages > 100000) return InternalError("S3 ListObjectsV2: paging does not end");
    ARBITER_ASSIGN_OR_RETURN(ListPage page, ListObjectsV2(bucket, req));
    for (auto& o : page.objects) all.push_back(std::move(o));
    if (!page.next_continuation_token) return all;
    if (*page.next_continuation_token == req.continuation_token) {
      return UnavailableError("S3 ListObjectsV2: server repeated the continuation token");
    }
    req.continuation_token = *page.next_continuation_token;
  }
}

Result<std::string> S3Client::Upload(const std::string& bucket, const std::string& key,
                                     std::string_view data, const PutOptions& options) {
  if (data.size() < options_.multipart_threshold || options.if_none_match) {
    return PutObject(bucket, key, data, options);
  }
  return MultipartUpload(bucket, key, data, options);
}

Result<std::string> S3Client::MultipartUpload(const std::string& bucket, const std::string& key,
                                              std::string_view data, const PutOptions& options) {
  http::HttpRequest create;
  create.method = "POST";
  create.url = Url(bucket, key, "uploads=");
  if (!options.content_type.empty()) create.headers.emplace_back("Content-Type", options.content_type);
  ARBITER_ASSIGN_OR_RETURN(XmlElement created, SendForXml(std::move(create), "CreateMultipartUpload"));
  const std::string upload_id = created.ChildText("UploadId");
  if (upload_id.empty()) return UnavailableError("S3 CreateMultipartUpload: no UploadId in response");
  const std::string id_param = "uploadId=" + http::UriEncode(upload_id, false);

  auto abort = [&](Status why) -> Status {
    http::HttpRequest a;
    a.method = "DELETE";
    a.url = Url(bucket, key, id_param);
    (void)Send(std::move(a), "AbortMultipartUpload");  // best effort; the original error matters
    return why;
  };

  const uint64_t part_size = std::max<uint64_t>(options_.part_size, 1);
  std::string complete = "<CompleteMultipartUpload>";
  int part = 1;
  for (uint64_t off = 0; off < data.size() || (data.empty() && part == 1); off += part_size, ++part) {
    http::HttpRequest up;
    up.method = "PUT";
    up.url = Url(bucket, key, "partNumber=" + std::to_string(part) + "&" + id_param);
    up.body = std::string(data.substr(off, part_size));
    up.headers = {{"Content-MD5", crypto::Base64Encode(crypto::Md5(up.body))}};
    auto resp = Send(std::move(up), "UploadPart");
    if (!resp.ok()) return abort(resp.status());
    const std::string etag = resp->Header("ETag").value_or("");
    if (etag.empty()) return abort(UnavailableError("S3 UploadPart: no ETag for part " + std::to_string(part)));
    complete += "<Part><PartNumber>" + std::to_string(part) + "</PartNumber><ETag>" + XmlEscape(etag) +
                "</ETag></Part>";
    if (data.empty()) break;
  }
  complete += "</CompleteMultipartUpload>";
  http::HttpRequest done;
  done.method = "POST";
  done.idempotent = true;  // completing the same upload id twice is harmless
  done.url = Url(bucket, key, id_param);
  done.headers = {{"Content-Type", "application/xml"}};
  done.body = std::move(complete);
  auto result = SendForXml(std::move(done), "CompleteMultipartUpload");
  if (!result.ok()) return abort(result.status());
  return Unquote(result->ChildText("ETag"));
}

Result<std::string> S3Client::PresignGet(const std::string& bucket, const std::string& key,
                                         std::chrono::seconds expires) {
  ARBITER_ASSIGN_OR_RETURN(Credentials creds, credentials_->Get());
  SigningOptions o = S3SigningOptions(options_.region, clock_->Now());
  o.expires = expires;
  return PresignUrl("GET", Url(bucket, key), creds, o);
}

}  // namespace arbiter::aws
