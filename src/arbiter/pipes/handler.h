// The seam between channels and the rest of Arbiter: a PipesMessageHandler receives typed
// messages, warnings and ordinary output lines; a MessageProcessor turns raw lines into those
// calls (size cap, parsing, validation, opened/closed bookkeeping). LineSplitter cuts byte
// streams into lines without ever buffering more than the cap.
// Not thread-safe: each reader drives its processor from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "arbiter/pipes/message.h"

namespace arbiter::pipes {

enum class WarningKind {
  kBadLine,             // see PipesWarning::problem for the reason
  kLineTooLong,         // over ProcessorOptions::max_line_bytes; skipped
  kMissingOpened,       // the job never sent `opened`
  kMissingClosed,       // `opened` but no `closed`
  kMessageAfterClosed,  // delivered anyway
  kChannel,             // I/O trouble in a channel (unreadable chunk, cleanup failure, ...)
};
std::string_view WarningKindName(WarningKind kind);

struct PipesWarning {
  WarningKind kind = WarningKind::kBadLine;
  LineProblem problem = LineProblem::kNone;  // for kBadLine
  std::string source;       // channel-specific: a file path, "stdout", "chunk 3", ...
  int64_t line_number = 0;  // 1-based within the source; 0 when not about a line
  std::string detail;       // human-readable reason
  std::string excerpt;      // the start of the offending line, escaped and truncated

  std::string ToString() const;
};

struct MessageOrigin {
  std::string_view source;
  int64_t line_number = 0;
};

class PipesMessageHandler {
 public:
  virtual ~PipesMessageHandler() = default;
  virtual void OnMessage(const PipesMessage& message, const MessageOrigin& origin) = 0;
  virtual void OnWarning(const PipesWarning& warning) = 0;
  // A non-message line from a mixed stream (stdio), without its newline.
  virtual void OnOutputLine(std::string_view /*source*/, std::string_view /*line*/) {}
};

struct ProcessorOptions {
  std::size_t max_line_bytes = 8u << 20;  // 8 MiB
  std::size_t excerpt_bytes = 160;
};

class MessageProcessor {
 public:
  MessageProcessor(PipesMessageHandler* handler, ProcessorOptions options = {});

  const ProcessorOptions& options() const { return options_; }

  // One complete line, without its newline (a trailing '\r' is ignored).
  void ProcessLine(std::string_view source, int64_t line_number, std::string_view line,
                   LineMode mode);
  // A line that exceeded the cap; `prefix` is its beginning, `total_bytes` its full length.
  void ReportTooLong(std::string_view source, int64_t line_number, std::string_view prefix,
                     std::size_t total_bytes);
  // A channel problem that is not about a single line.
  void ReportChannelWarning(std::string_view source, std::string detail);

  // End of the session: warns about a missing opened/closed. Idempotent.
  void Finish();

  // Resuming a session another processor started (an arbiter re-attaching to a
  // running job): what that processor had already seen.
  void RestoreSession(bool received_opened, bool received_closed) {
    received_opened_ = received_opened;
    received_closed_ = received_closed;
  }
  bool received_opened() const { return received_opened_; }
  bool received_closed() const { return received_closed_; }
  int64_t messages() const { return messages_; }
  int64_t warnings() const { return warnings_; }

 private:
  void Warn(PipesWarning warning);

  PipesMessageHandler* handler_;
  ProcessorOptions options_;
  bool received_opened_ = false;
  bool received_closed_ = false;
  bool finished_ = false;
  int64_t messages_ = 0;
  int64_t warnings_ = 0;
};

// Splits a byte stream into lines for a MessageProcessor. Lines longer than the cap are
// reported (with their prefix) and skipped up to the next newline, holding at most
// max_line_bytes + 1 bytes of memory.
class LineSplitter {
 public:
  LineSplitter(MessageProcessor* processor, std::string source, LineMode mode);

  void Feed(std::string_view bytes);
  // End of stream: a final line without a newline is processed as a line.
  void Flush();

  int64_t lines_seen() const { return line_number_; }
  const std::string& source() const { return source_; }

 private:
  void EmitLine(std::string_view line);

  MessageProcessor* processor_;
  std::string source_;
  LineMode mode_;
  std::string partial_;
  bool discarding_ = false;    // inside a too-long line
  std::size_t discarded_ = 0;  // bytes of the too-long line seen so far
  int64_t line_number_ = 0;
};

}  // namespace arbiter::pipes
