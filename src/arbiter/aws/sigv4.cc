#include "arbiter/aws/sigv4.h"

#include <algorithm>
#include <ctime>
#include <map>

#include "arbiter/crypto/crypto.h"

namespace arbiter::aws {

using http::EqualsIgnoreCase;
using http::Headers;

SigningOptions S3SigningOptions(std::string region, TimePoint time) {
  SigningOptions o;
  o.region = std::move(region);
  o.service = "s3";
  o.time = time;
  o.normalize_path = false;
  o.encode_path = false;
  o.add_content_sha256 = true;
  return o;
}

std::string AmzDate(TimePoint t) {
  const std::time_t tt = static_cast<std::time_t>(t.time_since_epoch().count());
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!seg.empty() && seg != ".") {
      out.push_back(seg);
    }
    i = j + 1;
  }
  std::string result;
  for (std::string_view seg : out) {
    result.push_back('/');
    result.append(seg);
  }
  const bool trailing = !path.empty() && path.back() == '/' && !out.empty();
  const bool dir_like = path.ends_with("/.") || path.ends_with("/..");
  if (trailing || (dir_like && !out.empty())) result.push_back('/');
  if (result.empty()) result.push_back('/');
  return result;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t i = 0;
  while (i <= query.size() && !query.empty()) {
    size_t j = query.find('&', i);
    if (j == std::string_view::npos) j = query.size();
    std::string_view p = query.substr(i, j - i);
    if (!p.empty()) {
      const size_t eq = p.find('=');
      std::string_view name = p.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : p.substr(eq + 1);
      params.emplace_back(http::UriEncode(http::UriDecode(name), false),
                          http::UriEncode(http::UriDecode(value), false));
    }
    i = j + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string SigningKey(std::string_view secret, std::string_view date, std::string_view region,
                       std::string_view service) {
  std::string k = "AWS4";
  k.append(secret);
  k = crypto::HmacSha256(k, date);
  k = crypto::HmacSha256(k, region);
  k = crypto::HmacSha256(k, service);
  return crypto::HmacSha256(k, "aws4_request");
}

namespace {

// Hop-by-hop or proxy-rewritten headers: signing them would break behind a proxy.
bool Unsignable(std::string_view name) {
  return EqualsIgnoreCase(name, "authorization") || EqualsIgnoreCase(name, "user-agent") ||
         EqualsIgnoreCase(name, "expect") || EqualsIgnoreCase(name, "connection") ||
         EqualsIgnoreCase(name, "x-amzn-trace-id") || EqualsIgnoreCase(name, "transfer-encoding");
}

std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

struct Canonical {
  std::string request;
  std::string signed_headers;
};

Canonical BuildCanonical(const SignableRequest& r, std::string_view query,
                         std::string_view payload_hash, const SigningOptions& o) {
  std::map<std::string, std::string> headers;  // sorted by lowercase name
  for (const auto& [name, value] : r.headers) {
    if (Unsignable(name)) continue;
    std::string& slot = headers[http::ToLower(name)];
    if (!slot.empty()) slot.push_back(',');
    slot += CanonicalValue(value);
  }
  Canonical c;
  std::string path = o.normalize_path ? NormalizePath(r.path) : r.path;
  if (path.empty()) path.push_back('/');
  if (o.encode_path) path = http::UriEncode(path, true);
  c.request = r.method;
  c.request += '\n';
  c.request += path;
  c.request += '\n';
  c.request += CanonicalQuery(query);
  c.request += '\n';
  for (const auto& [name, value] : headers) {
    c.request += name;
    c.request += ':';
    c.request += value;
    c.request += '\n';
    if (!c.signed_headers.empty()) c.signed_headers.push_back(';');
    c.signed_headers += name;
  }
  c.request += '\n';
  c.request += c.signed_headers;
  c.request += '\n';
  c.request.append(payload_hash);
  return c;
}

std::string Scope(const SigningOptions& o) {
  return AmzDate(o.time).substr(0, 8) + "/" + o.region + "/" + o.service + "/aws4_request";
}

void FinishSignature(SigningResult& result, const Credentials& creds, const SigningOptions& o) {
  const std::string amz_date = AmzDate(o.time);
  result.string_to_sign = "AWS4-HMAC-SHA256\n";
  result.string_to_sign += amz_date;
  result.string_to_sign += '\n';
  result.string_to_sign += Scope(o);
  result.string_to_sign += '\n';
  result.string_to_sign += crypto::Sha256Hex(result.canonical_request);
  const std::string key =
      SigningKey(creds.secret_access_key, amz_date.substr(0, 8), o.region, o.service);
  result.signature = crypto::HexEncode(crypto::HmacSha256(key, result.string_to_sign));
}

Status Check(const SignableRequest& r, const Credentials& creds, const SigningOptions& o) {
  if (creds.access_key_id.empty() || creds.secret_access_key.empty()) {
    return InvalidArgumentError("SigV4: credentials have no access key id or secret");
  }
  if (o.service.empty() || o.region.empty()) {
    return InvalidArgumentError("SigV4: region and service are required");
  }
  if (!http::FindHeader(r.headers, "host")) return InvalidArgumentError("SigV4: no Host header");
  return Status::Ok();
}

}  // namespace

Result<SigningResult> SignWithHeaders(const SignableRequest& request, const Credentials& creds,
                                      const SigningOptions& o) {
  ARBITER_RETURN_IF_ERROR(Check(request, creds, o));
  SignableRequest r = request;
  const std::string amz_date = AmzDate(o.time);
  if (!http::FindHeader(r.headers, "x-amz-date")) r.headers.emplace_back("X-Amz-Date", amz_date);
  const bool token = !creds.session_token.empty();
  if (token && !o.omit_session_token) {
    http::SetHeader(r.headers, "X-Amz-Security-Token", creds.session_token);
  }
  std::string payload_hash;
  if (auto given = http::FindHeader(r.headers, "x-amz-content-sha256")) {
    payload_hash = *given;  // the caller chose (e.g. UNSIGNED-PAYLOAD)
  } else {
    payload_hash = o.unsigned_payload ? "UNSIGNED-PAYLOAD" : crypto::Sha256Hex(r.body);
    if (o.add_content_sha256) r.headers.emplace_back("x-amz-content-sha256", payload_hash);
  }
  SigningResult result;
  Canonical c = BuildCanonical(r, r.query, payload_hash, o);
  result.canonical_request = std::move(c.request);
  result.signed_headers = std::move(c.signed_headers);
  FinishSignature(result, creds, o);
  result.headers = std::move(r.headers);
  result.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" +
                                                   creds.access_key_id + "/" + Scope(o) +
                                                   ", SignedHeaders=" + result.signed_headers +
                                                   ", Signature=" + result.signature);
  if (token && o.omit_session_token) {
    result.headers.emplace_back("X-Amz-Security-Token", creds.session_token);
  }
  result.query = request.query;
  return result;
}

Result<SigningResult> SignWithQuery(const SignableRequest& request, const Credentials& creds,
                                    const SigningOptions& o) {
  ARBITER_RETURN_IF_ERROR(Check(request, creds, o));
  if (o.expires.count() < 1 || o.expires.count() > 604800) {
    return InvalidArgumentError("SigV4: presigned URL expiry must be 1..604800 seconds");
  }
  // Signed headers are those the request carries (usually just host).
  std::string signed_names;
  {
    std::map<std::string, int> names;
    for (const auto& h : request.headers) {
      if (!Unsignable(h.first)) names[http::ToLower(h.first)] = 1;
    }
    for (const auto& n : names) {
      if (!signed_names.empty()) signed_names.push_back(';');
      signed_names += n.first;
    }
  }
  auto enc = [](std::string_view s) { return http::UriEncode(s, false); };
  std::string added = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" +
                      enc(creds.access_key_id + "/" + Scope(o)) +
                      "&X-Amz-Date=" + AmzDate(o.time) +
                      "&X-Amz-Expires=" + std::to_string(o.expires.count()) +
                      "&X-Amz-SignedHeaders=" + enc(signed_names);
  const bool token = !creds.session_token.empty();
  if (token && !o.omit_session_token) added += "&X-Amz-Security-Token=" + enc(creds.session_token);
  std::string query = request.query;
  if (!query.empty()) query.push_back('&');
  query += added;

  const std::string payload_hash =
      o.unsigned_payload ? "UNSIGNED-PAYLOAD" : crypto::Sha256Hex(request.body);
  SigningResult result;
  Canonical c = BuildCanonical(request, query, payload_hash, o);
  result.canonical_request = std::move(c.request);
  result.signed_headers = std::move(c.signed_headers);
  FinishSignature(result, creds, o);
  if (token && o.omit_session_token) query += "&X-Amz-Security-Token=" + enc(creds.session_token);
  query += "&X-Amz-Signature=" + result.signature;
  result.query = std::move(query);
  result.headers = request.headers;
  return result;
}

namespace {

Result<SignableRequest> FromHttp(std::string_view method, std::string_view url,
                                 const http::Headers& headers, std::string body,
                                 http::UrlParts* parts_out) {
  ARBITER_ASSIGN_OR_RETURN(http::UrlParts parts, http::SplitUrl(url));
  SignableRequest r;
  r.method = std::string(method);
  r.path = parts.path;
  r.query = parts.query;
  r.headers = headers;
  r.body = std::move(body);
  if (!http::FindHeader(r.headers, "host")) {
    // Default ports are left out of Host, as HTTP clients send it.
    std::string host = parts.authority;
    if ((parts.scheme == "https" && host.ends_with(":443")) ||
        (parts.scheme == "http" && host.ends_with(":80"))) {
      host = host.substr(0, host.rfind(':'));
    }
    r.headers.insert(r.headers.begin(), {"Host", host});
  }
  *parts_out = std::move(parts);
  return r;
}

}  // namespace

Status SignHttpRequest(http::HttpRequest& request, const Credentials& creds,
                       const SigningOptions& options) {
  http::UrlParts parts;
  ARBITER_ASSIGN_OR_RETURN(SignableRequest r,
                           FromHttp(request.method, request.url, request.headers, request.body, &parts));
  ARBITER_ASSIGN_OR_RETURN(SigningResult signed_request, SignWithHeaders(r, creds, options));
  request.headers = std::move(signed_request.headers);
  return Status::Ok();
}

Result<std::string> PresignUrl(std::string_view method, std::string_view url,
                               const Credentials& creds, const SigningOptions& options) {
  http::UrlParts parts;
  ARBITER_ASSIGN_OR_RETURN(SignableRequest r, FromHttp(method, url, {}, "", &parts));
  SigningOptions o = options;
  o.unsigned_payload = o.service == "s3" || o.unsigned_payload;
  ARBITER_ASSIGN_OR_RETURN(SigningResult signed_request, SignWithQuery(r, creds, o));
  return parts.scheme + "://" + parts.authority + parts.path + "?" + signed_request.query;
}

}  // namespace arbiter::aws
