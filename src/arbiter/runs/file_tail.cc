#include "arbiter/runs/file_tail.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace arbiter::runs {

FileTail::FileTail(std::string path, int64_t offset, size_t max_line_bytes)
    : path_(std::move(path)),
      max_line_bytes_(max_line_bytes),
      read_offset_(offset),
      line_start_(offset) {}

FileTail::~FileTail() {
  if (fd_ >= 0) close(fd_);
}

void FileTail::Deliver(const LineFn& on_line, size_t line_end_bytes) {
  std::string_view line(partial_);
  if (partial_total_ == line.size() && !line.empty() && line.back() == '\r') line.remove_suffix(1);
  on_line(line, partial_total_ == partial_.size() ? line.size() : partial_total_);
  ++lines_;
  line_start_ += static_cast<int64_t>(line_end_bytes);
  partial_.clear();
  partial_total_ = 0;
}

Status FileTail::Poll(const LineFn& on_line, bool at_end, int64_t max_lines) {
  more_ = false;
  if (fd_ < 0) {
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
      if (errno == ENOENT) return Status::Ok();
      return InternalError("cannot open " + path_ + ": " + std::strerror(errno));
    }
  }
  char buf[1 << 16];
  int64_t delivered = 0;
  while (!more_) {
    ssize_t n = pread(fd_, buf, sizeof(buf), read_offset_);
    if (n < 0) {
      if (errno == EINTR) continue;
      return InternalError("cannot read " + path_ + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    read_offset_ += n;
    std::string_view data(buf, static_cast<size_t>(n));
    while (!data.empty()) {
      size_t nl = data.find('\n');
      std::string_view piece = data.substr(0, nl == std::string_view::npos ? data.size() : nl);
      size_t room = max_line_bytes_ > partial_.size() ? max_line_bytes_ - partial_.size() : 0;
      partial_.append(piece.substr(0, std::min(room, piece.size())));
      partial_total_ += piece.size();
      if (nl == std::string_view::npos) break;
      Deliver(on_line, partial_total_ + 1);
      data.remove_prefix(nl + 1);
      if (++delivered >= max_lines && !data.empty()) {
        // Budget spent: the rest of this read is read again next time.
        more_ = true;
        read_offset_ = line_start_;
        break;
      }
    }
  }
  if (at_end && !more_ && partial_total_ > 0) Deliver(on_line, partial_total_);
  return Status::Ok();
}

}  // namespace arbiter::runs
