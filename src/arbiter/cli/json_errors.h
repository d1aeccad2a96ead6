// With --json, errors are JSON too: JsonErrorStream stands in for stderr,
// passes every other line through as it comes (progress, notes), and keeps
// the lines of errors ("error: ..." and the indented hint lines after it).
// Finish writes them as one JSON object on one line:
//   {"error": "unknown asset 'x'", "details": ["hint: 'arbiter assets' lists them"], "exit_code": 1}
#pragma once

#include <ostream>
#include <streambuf>
#include <string>
#include <vector>

namespace arbiter::cli {

class JsonErrorStream final : private std::streambuf, public std::ostream {
 public:
  explicit JsonErrorStream(std::ostream& err) : std::ostream(this), err_(err) {}
  // Writes the collected errors (if any) as JSON; returns `exit_code`.
  int Finish(int exit_code);

 private:
  int overflow(int c) override;
  int sync() override;
  void EndLine();

  std::ostream& err_;
  std::string line_;
  bool in_error_ = false;  // the current block started with "error: "
  std::vector<std::string> collected_;  // the first error, then what followed it
};

}  // namespace arbiter::cli
