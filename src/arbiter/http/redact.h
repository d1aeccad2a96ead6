// Removing secrets from anything that may be logged or put in an error message: header
// values (Authorization, X-Amz-Security-Token, ...), query parameters of signed URLs, and
// token/password/secret fields of JSON or form bodies. Also a registry of known secret values
// (credential providers add what they load) that are scrubbed verbatim wherever they appear,
// as a second line of defence for formats the field rules do not know.
#pragma once

#include <string>
#include <string_view>

#include "arbiter/http/http.h"

namespace arbiter::http {

inline constexpr std::string_view kRedacted = "REDACTED";

bool IsSecretHeader(std::string_view name);
// Field or parameter names whose values are secrets: *token*, *secret*, *password*,
// *signature*, *credential*, authorization, ...
bool IsSecretField(std::string_view name);

std::string RedactUrl(std::string_view url);
// JSON fields and form parameters with secret names get their values replaced.
std::string RedactBody(std::string_view body);
// Replaces every registered secret value in `text`.
std::string ScrubKnownSecrets(std::string_view text);

// Registers a secret value (ignored when shorter than 8 bytes: too likely to hit by chance).
void RegisterSecret(std::string_view secret);

// "Name: value" lines for logging, secret values replaced.
std::string DescribeHeaders(const Headers& headers);

}  // namespace arbiter::http
