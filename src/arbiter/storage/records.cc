#include "arbiter/storage/records.h"

namespace arbiter::storage {

std::string_view RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kQueued:
      return "QUEUED";
    case RunStatus::kStarting:
      return "STARTING";
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kSuccess:
      return "SUCCESS";
    case RunStatus::kFailure:
      return "FAILURE";
    case RunStatus::kCanceling:
      return "CANCELING";
    case RunStatus::kCanceled:
      return "CANCELED";
  }
  return "?";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  for (RunStatus s :
       {RunStatus::kQueued, RunStatus::kStarting, RunStatus::kRunning, RunStatus::kSuccess,
        RunStatus::kFailure, RunStatus::kCanceling, RunStatus::kCanceled}) {
    if (RunStatusName(s) == name) return s;
  }
  return std::nullopt;
}

bool IsTerminal(RunStatus s) {
  return s == RunStatus::kSuccess || s == RunStatus::kFailure || s == RunStatus::kCanceled;
}

std::string_view PartitionStateName(PartitionState s) {
  switch (s) {
    case PartitionState::kMaterialized:
      return "materialized";
    case PartitionState::kFailed:
      return "failed";
    case PartitionState::kInProgress:
      return "in_progress";
  }
  return "?";
}

std::string_view BackfillStatusName(BackfillStatus s) {
  switch (s) {
    case BackfillStatus::kRunning:
      return "RUNNING";
    case BackfillStatus::kPaused:
      return "PAUSED";
    case BackfillStatus::kCanceled:
      return "CANCELED";
    case BackfillStatus::kCompleted:
      return "COMPLETED";
  }
  return "?";
}

std::optional<BackfillStatus> ParseBackfillStatus(std::string_view name) {
  for (BackfillStatus s : {BackfillStatus::kRunning, BackfillStatus::kPaused,
                           BackfillStatus::kCanceled, BackfillStatus::kCompleted}) {
    if (BackfillStatusName(s) == name) return s;
  }
  return std::nullopt;
}

}  // namespace arbiter::storage
