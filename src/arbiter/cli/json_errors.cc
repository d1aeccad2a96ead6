#include "arbiter/cli/json_errors.h"

#include <nlohmann/json.hpp>

namespace arbiter::cli {

int JsonErrorStream::overflow(int c) {
  if (c == std::char_traits<char>::eof()) return std::char_traits<char>::not_eof(c);
  if (c == '\n') {
    EndLine();
  } else {
    line_ += static_cast<char>(c);
  }
  return c;
}

void JsonErrorStream::EndLine() {
  if (line_.rfind("error: ", 0) == 0) {
    in_error_ = true;
    collected_.push_back(collected_.empty() ? line_.substr(7) : line_);
  } else if (in_error_ && line_.rfind("  ", 0) == 0) {
    collected_.push_back(line_.substr(line_.find_first_not_of(' ')));
  } else {
    in_error_ = false;
    err_ << line_ << '\n';
  }
  line_.clear();
}

// A flush passes a partial line on (a progress line redrawn in place), unless
// it may be the start of an error.
int JsonErrorStream::sync() {
  if (!line_.empty() && line_.rfind("error", 0) != 0 && !(in_error_ && line_[0] == ' ')) {
    err_ << line_;
    line_.clear();
  }
  err_.flush();
  return 0;
}

int JsonErrorStream::Finish(int exit_code) {
  if (!line_.empty()) EndLine();
  if (!collected_.empty()) {
    nlohmann::json j = {{"error", collected_.front()}, {"exit_code", exit_code}};
    j["details"] = std::vector<std::string>(collected_.begin() + 1, collected_.end());
    err_ << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  err_.flush();
  return exit_code;
}

}  // namespace arbiter::cli
