// Turns what a running job produces (pipes messages and warnings, stdout and
// stderr lines, the launcher's own notes) into run events and
// materializations, and stores them in batches together with the readers'
// cursor, so a restarted arbiter resumes exactly where the stored data ends.
// Not thread-safe: the thread following a run owns its recorder.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/clock.h"
#include "arbiter/pipes/handler.h"
#include "arbiter/runs/launcher.h"
#include "arbiter/storage/storage.h"

namespace arbiter::runs {

struct RecorderOptions {
  size_t max_output_line_bytes = 16 * 1024;  // longer stdout/stderr lines are cut
  int64_t max_output_lines = 100000;         // per run; then one note and no more
  int stderr_tail_lines = 20;                // kept for the run record
  size_t batch_events = 5000;                // flush when this many are pending
  const Clock* clock = &RealClock();         // event and materialization times
};

class RunRecorder final : public pipes::PipesMessageHandler {
 public:
  RunRecorder(storage::Storage* storage, storage::RunRecord run, RecorderOptions options = {});

  // pipes::PipesMessageHandler
  void OnMessage(const pipes::PipesMessage& message, const pipes::MessageOrigin& origin) override;
  void OnWarning(const pipes::PipesWarning& warning) override;
  void OnOutputLine(std::string_view source, std::string_view line) override;

  // A stdout/stderr line; total_bytes > line.size() when the line was cut.
  void AddOutputLine(pipes::StdStream stream, std::string_view line, size_t total_bytes);
  // The launcher's own notes ("status" events: command, engine, exit, ...).
  void AddStatus(std::string_view level, std::string message, nlohmann::json data = nullptr);

  bool ShouldFlush() const { return pending_.events.size() >= options_.batch_events; }
  bool HasPending() const { return !pending_.events.empty(); }
  // Stores pending events and materializations with `cursor`, in one transaction.
  Status Flush(const nlohmann::json& cursor);

  // Stores the run's end (status, end time, reason, stderr tail) if it is still in one of
  // `from`, and notes whether the job reported a materialization. Call after the last
  // Flush. An error if another process already ended the run.
  Result<RunResult> End(RunResult result,
                        const std::vector<storage::RunStatus>& from = {
                            storage::RunStatus::kStarting, storage::RunStatus::kRunning,
                            storage::RunStatus::kCanceling});

  // What the outcome depends on.
  bool closed() const { return closed_; }
  const std::optional<std::string>& closed_exception() const { return closed_exception_; }
  std::string StderrTail() const;
  int64_t materializations() const { return materializations_; }
  int64_t messages() const { return messages_; }

 private:
  void Add(std::string kind, std::string level, std::string message, nlohmann::json data);

  storage::Storage* storage_;
  storage::RunRecord run_;
  RecorderOptions options_;
  storage::RunOutput pending_;
  int64_t output_lines_ = 0;
  bool output_truncated_noted_ = false;
  std::deque<std::string> stderr_tail_;
  bool closed_ = false;
  std::optional<std::string> closed_exception_;
  int64_t materializations_ = 0;
  int64_t messages_ = 0;
};

// Invalid UTF-8 bytes become U+FFFD, so binary output is stored, not lost.
std::string SanitizeUtf8(std::string_view text);

// Pipes metadata as stored: {"name": {"type": "int", "raw_value": 3}, ...}.
nlohmann::json MetadataToJson(const pipes::Metadata& metadata);

}  // namespace arbiter::runs
