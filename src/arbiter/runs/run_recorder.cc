#include "arbiter/runs/run_recorder.h"

#include <cctype>
#include <utility>

#include "arbiter/pipes/json_util.h"

namespace arbiter::runs {

namespace {

int64_t NowMs(const Clock& clock) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             clock.WallTime().time_since_epoch())
      .count();
}

// Length of the valid UTF-8 sequence at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;  // overlong
  auto c1 = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
  if (n == 3 && ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0))) return 0;
  if (n == 4 && ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90))) return 0;
  return n;
}

// "name: message" once. Python clients send format_exception_only(), which
// already starts with the (qualified) name and ends with a newline.
std::string ExceptionSummary(const pipes::PipesException& e) {
  std::string message = e.message;
  while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back()))) {
    message.pop_back();
  }
  if (!e.name) return message;
  const std::string head = message.substr(0, message.find(": "));
  const std::string dotted = "." + *e.name;
  if (head == *e.name || (head.size() > dotted.size() &&
                          head.compare(head.size() - dotted.size(), dotted.size(), dotted) == 0)) {
    return message;
  }
  return *e.name + ": " + message;
}

}  // namespace

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

nlohmann::json MetadataToJson(const pipes::Metadata& metadata) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : metadata) {
    out[name] = {{"type", std::string(pipes::MetadataTypeName(value.Resolved()))},
                 {"raw_value", value.raw_value}};
  }
  return out;
}

RunRecorder::RunRecorder(storage::Storage* storage, storage::RunRecord run, RecorderOptions options)
    : storage_(storage), run_(std::move(run)), options_(options) {}

void RunRecorder::Add(std::string kind, std::string level, std::string message,
                      nlohmann::json data) {
  storage::RunEvent e;
  e.timestamp_ms = NowMs(*options_.clock);
  e.kind = std::move(kind);
  e.level = std::move(level);
  e.message = std::move(message);
  e.data = std::move(data);
  pending_.events.push_back(std::move(e));
}

void RunRecorder::AddStatus(std::string_view level, std::string message, nlohmann::json data) {
  Add("status", std::string(level), std::move(message), std::move(data));
}

void RunRecorder::OnMessage(const pipes::PipesMessage& message,
                            const pipes::MessageOrigin& /*origin*/) {
  ++messages_;
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, pipes::LogMessage>) {
          std::string level(pipes::LogLevelName(m.level));
          for (char& c : level) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          Add("log", std::move(level), SanitizeUtf8(m.message), nullptr);
        } else if constexpr (std::is_same_v<T, pipes::OpenedMessage>) {
          Add("pipes", "debug", "pipes opened", nullptr);
        } else if constexpr (std::is_same_v<T, pipes::ClosedMessage>) {
          closed_ = true;
          if (m.exception) {
            closed_exception_ = ExceptionSummary(*m.exception);
            nlohmann::json stack = m.exception->stack;
            Add("pipes", "error", "pipes closed with an exception: " + *closed_exception_,
                {{"stack", stack}});
          } else {
            Add("pipes", "debug", "pipes closed", nullptr);
          }
        } else if constexpr (std::is_same_v<T, pipes::AssetMaterializationMessage>) {
          // Only the run's own asset (the one key in its context, as Dagster
          // checks): a job must not mark other assets' partitions as done.
          if (!m.asset_key.empty() && m.asset_key != run_.asset_key) {
            Add("pipes_warning", "warning",
                "ignored a materialization of " + SanitizeUtf8(m.asset_key) + ": run " +
                    run_.run_id + " materializes only " + run_.asset_key +
                    " (the asset key in its context)",
                {{"kind", "asset_not_in_context"}, {"asset_key", SanitizeUtf8(m.asset_key)}});
            return;
          }
          storage::Materialization mat;
          mat.asset_key = m.asset_key.empty() ? run_.asset_key : m.asset_key;
          mat.partition_key = run_.partition_key;
          mat.run_id = run_.run_id;
          mat.timestamp = options_.clock->Now();
          mat.data_version = m.data_version;
          if (m.metadata) mat.metadata = MetadataToJson(*m.metadata);
          nlohmann::json data = {{"asset_key", mat.asset_key}, {"metadata", mat.metadata}};
          if (mat.data_version) data["data_version"] = *mat.data_version;
          Add("materialization", "info", "materialized " + mat.asset_key, std::move(data));
          pending_.materializations.push_back(std::move(mat));
          ++materializations_;
        } else if constexpr (std::is_same_v<T, pipes::AssetCheckMessage>) {
          nlohmann::json data = {
              {"asset_key", m.asset_key},
              {"check_name", m.check_name},
              {"passed", m.passed},
              {"severity", m.severity == pipes::CheckSeverity::kWarn ? "WARN" : "ERROR"}};
          if (m.metadata) data["metadata"] = MetadataToJson(*m.metadata);
          Add("asset_check", m.passed ? "info" : "warning",
              "check " + m.check_name + (m.passed ? " passed" : " failed"), std::move(data));
        } else if constexpr (std::is_same_v<T, pipes::CustomMessage>) {
          Add("custom", "info", "custom message", m.payload);
        } else if constexpr (std::is_same_v<T, pipes::ExternalStreamMessage>) {
          Add(std::string(pipes::StdStreamName(m.stream)), "", SanitizeUtf8(m.text), m.extras);
        }
      },
      message);
}

void RunRecorder::OnWarning(const pipes::PipesWarning& warning) {
  nlohmann::json data = {{"kind", std::string(pipes::WarningKindName(warning.kind))},
                         {"source", warning.source},
                         {"line", warning.line_number}};
  Add("pipes_warning", "warning", SanitizeUtf8(warning.ToString()), std::move(data));
}

void RunRecorder::OnOutputLine(std::string_view source, std::string_view line) {
  AddOutputLine(source == "stdout" ? pipes::StdStream::kStdout : pipes::StdStream::kStderr, line,
                line.size());
}

void RunRecorder::AddOutputLine(pipes::StdStream stream, std::string_view line,
                                size_t total_bytes) {
  bool cut = total_bytes > line.size() || line.size() > options_.max_output_line_bytes;
  std::string text = SanitizeUtf8(line.substr(0, options_.max_output_line_bytes));
  if (cut) {
    text += " [... line cut: " + std::to_string(total_bytes) + " bytes, first " +
            std::to_string(std::min(line.size(), options_.max_output_line_bytes)) + " kept]";
  }
  if (stream == pipes::StdStream::kStderr) {
    stderr_tail_.push_back(text);
    while (static_cast<int>(stderr_tail_.size()) > options_.stderr_tail_lines) {
      stderr_tail_.pop_front();
    }
  }
  if (output_lines_ >= options_.max_output_lines) {
    if (!output_truncated_noted_) {
      output_truncated_noted_ = true;
      AddStatus("warning", "output truncated: more than " +
                               std::to_string(options_.max_output_lines) +
                               " stdout/stderr lines; later lines are not stored (the stderr "
                               "tail in the run record stays current)");
    }
    return;
  }
  ++output_lines_;
  Add(std::string(pipes::StdStreamName(stream)), "", std::move(text), nullptr);
}

std::string RunRecorder::StderrTail() const {
  std::string out;
  for (const std::string& line : stderr_tail_) {
    out += line;
    out += '\n';
  }
  return out;
}

Status RunRecorder::Flush(const nlohmann::json& cursor) {
  pending_.reader_cursor = cursor;
  Result<int64_t> r = storage_->AppendRunOutput(run_.run_id, &pending_);
  if (!r.ok()) return r.status().WithContext("storing events of run " + run_.run_id);
  pending_ = storage::RunOutput{};
  return Status::Ok();
}

Result<RunResult> RunRecorder::End(RunResult result, const std::vector<storage::RunStatus>& from) {
  storage::RunUpdate end;
  end.ended_at = options_.clock->Now();
  end.failure_reason = result.reason;
  if (*FailureKindOf(result)) end.failure_kind = FailureKindOf(result);
  end.stderr_tail = StderrTail();
  ARBITER_ASSIGN_OR_RETURN(bool moved,
                           storage_->TransitionRun(run_.run_id, from, result.status, end));
  if (!moved) {
    ARBITER_ASSIGN_OR_RETURN(storage::RunRecord latest, storage_->GetRun(run_.run_id));
    return InternalError("run " + run_.run_id + " ended, but it is already " +
                         std::string(storage::RunStatusName(latest.status)));
  }
  result.reported_materialization = materializations_ > 0;
  return result;
}

}  // namespace arbiter::runs
