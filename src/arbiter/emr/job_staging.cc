#include "arbiter/emr/job_staging.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "arbiter/crypto/crypto.h"

namespace arbiter::emr {

namespace fs = std::filesystem;

Result<S3Location> S3Location::Parse(std::string_view uri) {
  if (uri.rfind("s3://", 0) != 0 || uri.size() <= 5) {
    return InvalidArgumentError("'" + std::string(uri) + "' is not an S3 URI (s3://bucket/prefix)");
  }
  std::string_view rest = uri.substr(5);
  S3Location loc;
  size_t slash = rest.find('/');
  loc.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) {
    std::string_view p = rest.substr(slash + 1);
    while (!p.empty() && p.front() == '/') p.remove_prefix(1);
    while (!p.empty() && p.back() == '/') p.remove_suffix(1);
    loc.prefix = std::string(p);
  }
  if (loc.bucket.empty()) return InvalidArgumentError("'" + std::string(uri) + "' has no bucket");
  return loc;
}

std::string S3Location::Key(std::string_view relative) const {
  return prefix.empty() ? std::string(relative) : prefix + "/" + std::string(relative);
}

std::string S3Location::Uri(std::string_view relative) const {
  return "s3://" + bucket + "/" + Key(relative);
}

namespace {

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Uploads `path` under code/<sha256>/<name> unless it is there already.
Result<std::string> StageFile(aws::S3Client& s3, const S3Location& staging, const fs::path& path,
                              int* uploaded) {
  ARBITER_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  std::string rel = "code/" + crypto::Sha256Hex(data) + "/" + path.filename().string();
  Result<aws::S3Object> head = s3.HeadObject(staging.bucket, staging.Key(rel));
  if (!head.ok()) {
    if (head.status().code() != StatusCode::kNotFound) {
      return head.status().WithContext("stage " + path.filename().string());
    }
    ARBITER_RETURN_IF_ERROR(
        s3.Upload(staging.bucket, staging.Key(rel), data, {"text/x-python", false})
            .status()
            .WithContext("stage " + path.filename().string() + " to " + staging.Uri(rel)));
    ++*uploaded;
  }
  return staging.Uri(rel);
}

}  // namespace

Result<StagedCode> StageJobCode(aws::S3Client& s3, const S3Location& staging,
                                const std::string& project_root, const definitions::JobSpec& job,
                                const std::string& pipes_client) {
  StagedCode out;
  fs::path script = fs::path(project_root) / job.script;
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) {
    return NotFoundError("job script " + job.script + " does not exist (looked in " + project_root +
                         ")");
  }
  ARBITER_ASSIGN_OR_RETURN(out.entry_point, StageFile(s3, staging, script, &out.uploaded));
  std::vector<fs::path> modules;
  for (const auto& entry : fs::directory_iterator(script.parent_path(), ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".py" &&
        entry.path().filename() != script.filename()) {
      modules.push_back(entry.path());
    }
  }
  if (!pipes_client.empty() && fs::is_regular_file(pipes_client, ec))
    modules.push_back(pipes_client);
  std::sort(modules.begin(), modules.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  for (const fs::path& m : modules) {
    ARBITER_ASSIGN_OR_RETURN(std::string uri, StageFile(s3, staging, m, &out.uploaded));
    out.py_files.push_back(std::move(uri));
  }
  return out;
}

Result<std::string> Gunzip(std::string_view data) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return InternalError("inflateInit2 failed");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  char buf[64 * 1024];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return InvalidArgumentError("not a gzip stream (zlib error " + std::to_string(rc) + ")");
    }
    out.append(buf, sizeof(buf) - z.avail_out);
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) break;  // truncated input
  }
  inflateEnd(&z);
  return out;
}

Result<std::string> FetchGzipObject(aws::S3Client& s3, std::string_view uri) {
  ARBITER_ASSIGN_OR_RETURN(S3Location loc, S3Location::Parse(uri));
  ARBITER_ASSIGN_OR_RETURN(std::string body, s3.GetObject(loc.bucket, loc.prefix));
  return Gunzip(body);
}

}  // namespace arbiter::emr
