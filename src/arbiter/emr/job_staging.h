// Shipping a job's code to S3 before an EMR run, and reading what EMR leaves there.
//
// Code goes under a content-addressed prefix, <staging>/code/<sha256 of the file>/<name>, so
// identical files are uploaded once across runs and a changed file never overwrites what a
// running cluster reads. The entry point is the asset's script; every other .py file next to
// it (the modules it imports) and the pipes client go as --py-files. Logs come back gzip'd
// from the log bucket, as EMR delivers them.
#pragma once

#include <string>
#include <vector>

#include "arbiter/aws/s3_client.h"
#include "arbiter/definitions/project.h"

namespace arbiter::emr {

struct S3Location {
  std::string bucket;
  std::string prefix;  // no leading or trailing '/'; may be empty

  // s3://bucket[/prefix]; kInvalidArgument otherwise.
  static Result<S3Location> Parse(std::string_view uri);
  std::string Key(std::string_view relative) const;  // prefix + "/" + relative
  std::string Uri(std::string_view relative) const;  // s3://bucket/<Key(relative)>
};

struct StagedCode {
  std::string entry_point;            // s3:// URI of the script
  std::vector<std::string> py_files;  // s3:// URIs, sorted by file name
  int uploaded = 0;                   // files that were not staged yet
};

// Uploads the script, its sibling modules and `pipes_client` (a path; empty: none).
Result<StagedCode> StageJobCode(aws::S3Client& s3, const S3Location& staging,
                                const std::string& project_root, const definitions::JobSpec& job,
                                const std::string& pipes_client);

// A gzip'd object (EMR and EMR Serverless logs) as text; kNotFound when it does not exist.
Result<std::string> FetchGzipObject(aws::S3Client& s3, std::string_view uri);
Result<std::string> Gunzip(std::string_view data);

}  // namespace arbiter::emr
