// SHA-256, HMAC-SHA256, MD5, hex and base64 over OpenSSL: what SigV4, S3 and the content-
// addressed code staging of every remote runtime need. A module of its own so that a
// runtime which only hashes (databricks) neither depends on aws nor pulls OpenSSL into
// common, which everything links.
#pragma once

#include <string>
#include <string_view>

namespace arbiter::crypto {

std::string Sha256(std::string_view data);  // 32 raw bytes
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string Md5(std::string_view data);  // 16 raw bytes
std::string HexEncode(std::string_view bytes);  // lowercase
std::string Base64Encode(std::string_view bytes);
inline std::string Sha256Hex(std::string_view data) { return HexEncode(Sha256(data)); }

}  // namespace arbiter::crypto
