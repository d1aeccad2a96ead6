// Reads a file another process appends to, from a byte offset, and cuts it
// into lines. The offset of the last delivered line is the cursor a restarted
// arbiter resumes from. Memory is bounded by max_line_bytes: a longer line is
// delivered cut to that length together with its full length.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>

#include "arbiter/common/status.h"

namespace arbiter::runs {

class FileTail {
 public:
  // `line` excludes the newline; total_bytes > line.size() means it was cut.
  using LineFn = std::function<void(std::string_view line, size_t total_bytes)>;

  FileTail(std::string path, int64_t offset, size_t max_line_bytes);
  ~FileTail();
  FileTail(const FileTail&) = delete;
  FileTail& operator=(const FileTail&) = delete;

  // Delivers the complete lines available now, at most `max_lines` of them
  // (more_available() then says there is more); with at_end also a final line
  // without a newline. A file that does not exist yet is not an error.
  Status Poll(const LineFn& on_line, bool at_end = false,
              int64_t max_lines = std::numeric_limits<int64_t>::max());
  bool more_available() const { return more_; }

  // Just past the last delivered line.
  int64_t offset() const { return line_start_; }
  int64_t lines() const { return lines_; }
  const std::string& path() const { return path_; }

 private:
  void Deliver(const LineFn& on_line, size_t line_end_bytes);

  std::string path_;
  size_t max_line_bytes_;
  int fd_ = -1;
  int64_t read_offset_;       // next byte to read from the file
  int64_t line_start_;        // file offset where `partial_` begins
  std::string partial_;       // bytes of the current line (at most max_line_bytes_)
  size_t partial_total_ = 0;  // full length of the current line so far
  int64_t lines_ = 0;
  bool more_ = false;
};

}  // namespace arbiter::runs
