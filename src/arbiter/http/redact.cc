#include "arbiter/http/redact.h"

#include <algorithm>
#include <mutex>
#include <set>

namespace arbiter::http {
namespace {

std::mutex g_secrets_mu;
std::set<std::string>& Secrets() {
  static auto* secrets = new std::set<std::string>();
  return *secrets;
}

bool Contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

bool IsSecretHeader(std::string_view name) {
  const std::string n = ToLower(name);
  return n == "authorization" || n == "proxy-authorization" || n == "x-amz-security-token" ||
         n == "x-aws-ec2-metadata-token" || n == "cookie" || n == "set-cookie" ||
         Contains(n, "token") || Contains(n, "secret") || Contains(n, "password");
}

bool IsSecretField(std::string_view name) {
  const std::string n = ToLower(name);
  return Contains(n, "token") || Contains(n, "secret") || Contains(n, "password") ||
         Contains(n, "passwd") || Contains(n, "signature") || Contains(n, "credential") ||
         n == "authorization" || n == "x-amz-security-token" || n == "awsaccesskeyid" ||
         Contains(n, "api_key") || Contains(n, "apikey") || Contains(n, "private_key");
}

static std::string RedactQuery(std::string_view query) {
  std::string out;
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view param = query.substr(start, end - start);
    const size_t eq = param.find('=');
    if (!out.empty() || start > 0) out.push_back('&');
    if (eq != std::string_view::npos && IsSecretField(UriDecode(param.substr(0, eq)))) {
      out.append(param.substr(0, eq + 1));
      out.append(kRedacted);
    } else {
      out.append(param);
    }
    start = end + 1;
  }
  return out;
}

std::string RedactUrl(std::string_view url) {
  std::string u(url);
  // user:password@host
  const size_t scheme = u.find("://");
  if (scheme != std::string::npos) {
    const size_t host_end = u.find_first_of("/?#", scheme + 3);
    const size_t at = u.rfind('@', host_end == std::string::npos ? u.size() : host_end);
    if (at != std::string::npos && at > scheme) {
      u = u.substr(0, scheme + 3) + std::string(kRedacted) + u.substr(at);
    }
  }
  const size_t q = u.find('?');
  if (q == std::string::npos) return ScrubKnownSecrets(u);
  const size_t hash = u.find('#', q);
  std::string out = u.substr(0, q + 1);
  out += RedactQuery(std::string_view(u).substr(q + 1, hash == std::string::npos ? std::string::npos
                                                                                  : hash - q - 1));
  if (hash != std::string::npos) out += u.substr(hash);
  return ScrubKnownSecrets(out);
}

// Scans JSON text without parsing it fully (it may be truncated or malformed): a string
// followed by ':' is a key; when the key is secret and the value is a string, the value's
// characters are replaced.
static std::string RedactJsonFields(std::string_view body) {
  std::string out;
  out.reserve(body.size());
  size_t i = 0;
  auto read_string = [&](size_t start) -> size_t {  // returns index after closing quote
    size_t j = start + 1;
    while (j < body.size() && body[j] != '"') j += body[j] == '\\' ? 2 : 1;
    return std::min(j + 1, body.size());
  };
  while (i < body.size()) {
    if (body[i] != '"') {
      out.push_back(body[i++]);
      continue;
    }
    const size_t key_end = read_string(i);
    const size_t key_len = key_end >= i + 2 ? key_end - i - 2 : 0;
    std::string_view key = body.substr(i + 1, key_len);
    out.append(body.substr(i, key_end - i));
    i = key_end;
    size_t j = i;
    while (j < body.size() && (body[j] == ' ' || body[j] == '\n' || body[j] == '\t' || body[j] == '\r')) ++j;
    if (j >= body.size() || body[j] != ':' || !IsSecretField(key)) continue;
    ++j;
    while (j < body.size() && (body[j] == ' ' || body[j] == '\n' || body[j] == '\t' || body[j] == '\r')) ++j;
    out.append(body.substr(i, j - i));
    i = j;
    if (i < body.size() && body[i] == '"') {
      i = read_string(i);
      out.push_back('"');
      out.append(kRedacted);
      out.push_back('"');
    }
  }
  return out;
}

static bool LooksLikeForm(std::string_view body) {
  if (body.empty() || body.find('=') == std::string_view::npos) return false;
  return std::all_of(body.begin(), body.end(), [](char c) {
    return c > ' ' && c != '"' && c != '{' && c != '<';
  });
}

std::string RedactBody(std::string_view body) {
  std::string out = LooksLikeForm(body) ? RedactQuery(body) : RedactJsonFields(body);
  return ScrubKnownSecrets(out);
}

void RegisterSecret(std::string_view secret) {
  if (secret.size() < 8) return;
  std::lock_guard<std::mutex> lock(g_secrets_mu);
  Secrets().insert(std::string(secret));
}

std::string ScrubKnownSecrets(std::string_view text) {
  std::string out(text);
  std::lock_guard<std::mutex> lock(g_secrets_mu);
  for (const std::string& s : Secrets()) {
    for (size_t pos = out.find(s); pos != std::string::npos; pos = out.find(s, pos)) {
      out.replace(pos, s.size(), kRedacted);
      pos += kRedacted.size();
    }
    // Also its URL-encoded form (tokens travel in query strings).
    const std::string encoded = UriEncode(s, false);
    if (encoded != s) {
      for (size_t pos = out.find(encoded); pos != std::string::npos; pos = out.find(encoded, pos)) {
        out.replace(pos, encoded.size(), kRedacted);
        pos += kRedacted.size();
      }
    }
  }
  return out;
}

std::string DescribeHeaders(const Headers& headers) {
  std::string out;
  for (const auto& [name, value] : headers) {
    if (!out.empty()) out += "; ";
    out += name;
    out += ": ";
    if (IsSecretHeader(name)) {
      // Keep the scheme of Authorization ("Bearer", "AWS4-HMAC-SHA256"): useful, not secret.
      const size_t space = value.find(' ');
      if (EqualsIgnoreCase(name, "authorization") && space != std::string::npos) {
        out += value.substr(0, space + 1);
      }
      out += kRedacted;
    } else {
      out += ScrubKnownSecrets(value);
    }
  }
  return out;
}

}  // namespace arbiter::http
