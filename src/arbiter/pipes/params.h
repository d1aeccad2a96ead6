// Bootstrap params codec: the two values (context params, messages params) handed to a job,
// encoded as base64(zlib(JSON)) exactly like Dagster Pipes, in env-var and CLI-argument forms.
// Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/pipes/json_util.h"

namespace arbiter::pipes {

inline constexpr std::string_view kContextEnvVar = "DAGSTER_PIPES_CONTEXT";
inline constexpr std::string_view kMessagesEnvVar = "DAGSTER_PIPES_MESSAGES";
// dagster-pipes 1.5.0-1.5.2 only open a real context when this holds an encoded truthy value
// (Dagster set it to EncodeParam(true)); without it they silently return a no-op mock.
// 1.5.3 and later detect a pipes launch by DAGSTER_PIPES_CONTEXT alone.
inline constexpr std::string_view kLegacyIsPipedEnvVar = "DAGSTER_PIPES_IS_DAGSTER_PIPED_PROCESS";
inline constexpr std::string_view kContextCliFlag = "--dagster-pipes-context";
inline constexpr std::string_view kMessagesCliFlag = "--dagster-pipes-messages";

// "DAGSTER_PIPES_CONTEXT" -> "--dagster-pipes-context".
std::string EnvVarToCliFlag(std::string_view env_var);

// base64(zlib(Python-style JSON)). Deterministic: the spec's test vectors are reproduced.
std::string EncodeParam(const OrderedJson& value);

struct DecodeOptions {
  // Upper bound on the inflated JSON, so a hostile value cannot exhaust memory.
  std::size_t max_decoded_bytes = 64u << 20;
};

// Reverses EncodeParam. Like Python's b64decode it skips non-alphabet characters; missing
// '=' padding is tolerated. Any valid zlib stream is accepted.
Result<Json> DecodeParam(std::string_view encoded, const DecodeOptions& options = {});

// The raw base64 and zlib layers, exposed for tests and the fuzzer.
std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);
Result<std::string> ZlibCompress(std::string_view bytes);
Result<std::string> ZlibInflate(std::string_view bytes, std::size_t max_output);

struct BootstrapParams {
  OrderedJson context;   // what the context injector yielded
  OrderedJson messages;  // what the message reader yielded
};

// {DAGSTER_PIPES_CONTEXT: enc, DAGSTER_PIPES_MESSAGES: enc,
//  DAGSTER_PIPES_IS_DAGSTER_PIPED_PROCESS: enc(true)}, in that order.
std::vector<std::pair<std::string, std::string>> BootstrapEnvVars(const BootstrapParams& params);

// {"--dagster-pipes-context", enc, "--dagster-pipes-messages", enc}: flag and value are
// separate argv entries, as the Python client's detection requires.
std::vector<std::string> BootstrapCliArgs(const BootstrapParams& params);

// Job-side detection (used by tests and tools; the clients carry their own copy).
// nullopt: not a pipes launch. Error: a pipes launch with a bad or missing value.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
Result<std::optional<std::pair<Json, Json>>> LoadBootstrapFromEnv(const EnvLookup& lookup);
Result<std::optional<std::pair<Json, Json>>> LoadBootstrapFromArgs(
    const std::vector<std::string>& argv);

}  // namespace arbiter::pipes
