// Bootstrap params codec (base64 + zlib + JSON).
#include "arbiter/pipes/params.h"

#include <zlib.h>

#include <array>
#include <cctype>
#include <cstdint>

namespace arbiter::pipes {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return t;
}
constexpr std::array<int8_t, 256> kDecodeTable = MakeDecodeTable();

}  // namespace

std::string EnvVarToCliFlag(std::string_view env_var) {
  std::string out = "--";
  for (char c : env_var) {
    out += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  // Padding ends the data; everything outside the alphabet is skipped (Python's default).
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const int8_t v = kDecodeTable[static_cast<unsigned char>(c)];
    if (v < 0) continue;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (bits >= 6) return InvalidArgumentError("base64: truncated input (one stray character)");
  return out;
}

Result<std::string> ZlibCompress(std::string_view bytes) {
  uLongf size = compressBound(static_cast<uLong>(bytes.size()));
  std::string out(size, '\0');
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                           reinterpret_cast<const Bytef*>(bytes.data()),
                           static_cast<uLong>(bytes.size()), Z_DEFAULT_COMPRESSION);
  if (rc != Z_OK) return InternalError("zlib compress failed: " + std::to_string(rc));
  out.resize(size);
  return out;
}

Result<std::string> ZlibInflate(std::string_view bytes, std::size_t max_output) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return InternalError("zlib inflateInit failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  std::string out;
  std::array<char, 16384> buf;
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf.data());
    zs.avail_out = static_cast<uInt>(buf.size());
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf.data(), buf.size() - zs.avail_out);
    if (out.size() > max_output) {
      inflateEnd(&zs);
      return InvalidArgumentError("zlib: inflated data exceeds " + std::to_string(max_output) +
                                  " bytes");
    }
    if (rc == Z_OK && zs.avail_in == 0 && zs.avail_out != 0) {
      rc = Z_BUF_ERROR;  // input ended before the stream did
      break;
    }
  }
  const std::string msg = zs.msg != nullptr ? zs.msg : "truncated or corrupt stream";
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return InvalidArgumentError("zlib: " + msg);
  return out;
}

std::string EncodeParam(const OrderedJson& value) {
  const std::string json = DumpPythonStyle(value);
  Result<std::string> compressed = ZlibCompress(json);
  // compress2 only fails on allocation failure or a bad level; neither is recoverable here.
  assert(compressed.ok());
  return Base64Encode(compressed.ok() ? *compressed : std::string());
}

Result<Json> DecodeParam(std::string_view encoded, const DecodeOptions& options) {
  ARBITER_ASSIGN_OR_RETURN(std::string compressed, Base64Decode(encoded));
  ARBITER_ASSIGN_OR_RETURN(std::string json, ZlibInflate(compressed, options.max_decoded_bytes));
  Result<Json> value = ParseJsonLenient(json);
  if (!value.ok()) return value.status().WithContext("pipes param");
  return value;
}

std::vector<std::pair<std::string, std::string>> BootstrapEnvVars(const BootstrapParams& params) {
  return {{std::string(kContextEnvVar), EncodeParam(params.context)},
          {std::string(kMessagesEnvVar), EncodeParam(params.messages)},
          {std::string(kLegacyIsPipedEnvVar), EncodeParam(OrderedJson(true))}};
}

std::vector<std::string> BootstrapCliArgs(const BootstrapParams& params) {
  return {std::string(kContextCliFlag), EncodeParam(params.context), std::string(kMessagesCliFlag),
          EncodeParam(params.messages)};
}

Result<std::optional<std::pair<Json, Json>>> LoadBootstrapFromEnv(const EnvLookup& lookup) {
  std::optional<std::string> context = lookup(kContextEnvVar);
  if (!context) return std::optional<std::pair<Json, Json>>();
  std::optional<std::string> messages = lookup(kMessagesEnvVar);
  if (!messages) {
    return InvalidArgumentError(std::string(kContextEnvVar) + " is set but " +
                                std::string(kMessagesEnvVar) + " is not");
  }
  ARBITER_ASSIGN_OR_RETURN(Json c, DecodeParam(*context));
  ARBITER_ASSIGN_OR_RETURN(Json m, DecodeParam(*messages));
  return std::optional<std::pair<Json, Json>>(std::make_pair(std::move(c), std::move(m)));
}

Result<std::optional<std::pair<Json, Json>>> LoadBootstrapFromArgs(
    const std::vector<std::string>& argv) {
  // Detection needs the exact token; the value is the next element (argparse behaviour).
  auto value_after = [&argv](std::string_view flag) -> std::optional<std::string> {
    for (std::size_t i = 0; i < argv.size(); ++i) {
      if (argv[i] == flag) {
        if (i + 1 < argv.size()) return argv[i + 1];
        return std::string();
      }
    }
    return std::nullopt;
  };
  std::optional<std::string> context = value_after(kContextCliFlag);
  if (!context) return std::optional<std::pair<Json, Json>>();
  std::optional<std::string> messages = value_after(kMessagesCliFlag);
  if (!messages) {
    return InvalidArgumentError(std::string(kContextCliFlag) + " given without " +
                                std::string(kMessagesCliFlag));
  }
  ARBITER_ASSIGN_OR_RETURN(Json c, DecodeParam(*context));
  ARBITER_ASSIGN_OR_RETURN(Json m, DecodeParam(*messages));
  return std::optional<std::pair<Json, Json>>(std::make_pair(std::move(c), std::move(m)));
}

}  // namespace arbiter::pipes
