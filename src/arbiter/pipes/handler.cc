// MessageProcessor and LineSplitter.
#include "arbiter/pipes/handler.h"

#include <algorithm>
#include <utility>

namespace arbiter::pipes {

std::string_view WarningKindName(WarningKind kind) {
  switch (kind) {
    case WarningKind::kBadLine:
      return "bad_line";
    case WarningKind::kLineTooLong:
      return "line_too_long";
    case WarningKind::kMissingOpened:
      return "missing_opened";
    case WarningKind::kMissingClosed:
      return "missing_closed";
    case WarningKind::kMessageAfterClosed:
      return "message_after_closed";
    case WarningKind::kChannel:
      return "channel";
  }
  return "?";
}

std::string PipesWarning::ToString() const {
  std::string out = "[pipes] ";
  out += WarningKindName(kind);
  if (kind == WarningKind::kBadLine) {
    out += " (";
    out += LineProblemName(problem);
    out += ")";
  }
  if (!source.empty()) {
    out += " in ";
    out += source;
    if (line_number > 0) {
      out += ':';
      out += std::to_string(line_number);
    }
  }
  out += ": ";
  out += detail;
  if (!excerpt.empty()) {
    out += " -- line starts: ";
    out += excerpt;
  }
  return out;
}

namespace {

// The prefix of an over-long line is always cut, so always mark it as such.
std::string TooLongExcerpt(std::string_view prefix, std::size_t max_bytes) {
  std::string out = Excerpt(prefix, max_bytes);
  if (out.size() < 3 || out.compare(out.size() - 3, 3, "...") != 0) out += "...";
  return out;
}

}  // namespace

MessageProcessor::MessageProcessor(PipesMessageHandler* handler, ProcessorOptions options)
    : handler_(handler), options_(options) {}

void MessageProcessor::Warn(PipesWarning warning) {
  ++warnings_;
  handler_->OnWarning(warning);
}

void MessageProcessor::ProcessLine(std::string_view source, int64_t line_number,
                                   std::string_view line, LineMode mode) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > options_.max_line_bytes) {
    ReportTooLong(source, line_number, line.substr(0, options_.excerpt_bytes), line.size());
    return;
  }
  if (line.empty() && mode == LineMode::kStrict) {
    Warn({WarningKind::kBadLine, LineProblem::kNotJson, std::string(source), line_number,
          "empty line", ""});
    return;
  }
  ParsedLine parsed = ParseMessageLine(line, mode);
  switch (parsed.kind) {
    case ParsedLine::Kind::kPlainText:
      handler_->OnOutputLine(source, line);
      return;
    case ParsedLine::Kind::kInvalid:
      Warn({WarningKind::kBadLine, parsed.problem, std::string(source), line_number,
            std::move(parsed.error), Excerpt(line, options_.excerpt_bytes)});
      return;
    case ParsedLine::Kind::kMessage:
      break;
  }
  const PipesMessage& message = *parsed.message;
  if (received_closed_) {
    // Built by appending: GCC 12 -O3 warns falsely (-Wrestrict) on "literal" + std::string.
    std::string detail = "'";
    detail += MethodName(message);
    detail += "' arrived after 'closed'; delivered anyway";
    Warn({WarningKind::kMessageAfterClosed, LineProblem::kNone, std::string(source), line_number,
          std::move(detail), ""});
  }
  if (std::holds_alternative<OpenedMessage>(message)) received_opened_ = true;
  if (std::holds_alternative<ClosedMessage>(message)) received_closed_ = true;
  ++messages_;
  handler_->OnMessage(message, MessageOrigin{source, line_number});
}

void MessageProcessor::ReportTooLong(std::string_view source, int64_t line_number,
                                     std::string_view prefix, std::size_t total_bytes) {
  Warn({WarningKind::kLineTooLong, LineProblem::kNone, std::string(source), line_number,
        "line of " + std::to_string(total_bytes) + " bytes exceeds the cap of " +
            std::to_string(options_.max_line_bytes) + " bytes; skipped",
        TooLongExcerpt(prefix, options_.excerpt_bytes)});
}

void MessageProcessor::ReportChannelWarning(std::string_view source, std::string detail) {
  Warn({WarningKind::kChannel, LineProblem::kNone, std::string(source), 0, std::move(detail), ""});
}

void MessageProcessor::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!received_opened_) {
    Warn({WarningKind::kMissingOpened, LineProblem::kNone, "", 0,
          "did not receive any messages from the job (no 'opened'); check its stdout/stderr "
          "and that it uses a pipes client",
          ""});
  } else if (!received_closed_) {
    Warn({WarningKind::kMissingClosed, LineProblem::kNone, "", 0,
          "did not receive 'closed' from the job; buffered messages may have been lost", ""});
  }
}

LineSplitter::LineSplitter(MessageProcessor* processor, std::string source, LineMode mode)
    : processor_(processor), source_(std::move(source)), mode_(mode) {}

void LineSplitter::EmitLine(std::string_view line) {
  ++line_number_;
  processor_->ProcessLine(source_, line_number_, line, mode_);
}

void LineSplitter::Feed(std::string_view bytes) {
  const std::size_t cap = processor_->options().max_line_bytes;
  while (!bytes.empty()) {
    const std::size_t nl = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, nl);
    if (discarding_) {
      discarded_ += piece.size();
    } else if (partial_.empty() && nl != std::string_view::npos) {
      EmitLine(piece);  // common case: a whole line inside one read, no copy
    } else if (partial_.size() + piece.size() > cap + 1) {
      // Too long (the +1 leaves room for a '\r' that ProcessLine strips): keep a prefix for
      // the excerpt and count the rest without storing it.
      discarded_ = partial_.size() + piece.size();
      const std::size_t keep = processor_->options().excerpt_bytes;
      if (partial_.size() < keep) {
        partial_.append(piece.substr(0, keep - partial_.size()));
      } else {
        partial_.resize(keep);
      }
      discarding_ = true;
    } else {
      partial_.append(piece);
      if (nl != std::string_view::npos) {
        EmitLine(partial_);
        partial_.clear();
      }
    }
    if (nl == std::string_view::npos) return;
    if (discarding_) {
      ++line_number_;
      processor_->ReportTooLong(source_, line_number_, partial_, discarded_);
      partial_.clear();
      discarding_ = false;
      discarded_ = 0;
    }
    bytes.remove_prefix(nl + 1);
  }
}

void LineSplitter::Flush() {
  if (discarding_) {
    ++line_number_;
    processor_->ReportTooLong(source_, line_number_, partial_, discarded_);
  } else if (!partial_.empty()) {
    EmitLine(partial_);
  }
  partial_.clear();
  discarding_ = false;
  discarded_ = 0;
}

}  // namespace arbiter::pipes
