// The service's log: one line per event, `event` plus fields. On a terminal a
// readable line ("17:03:00 tick.launched schedule=nightly runs=2"); otherwise
// one JSON object per line for log collectors. Never holds secrets: callers
// pass names, ids and messages, not settings. Thread-safe.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "arbiter/common/clock.h"

namespace arbiter::service {

// "2026-12-03T17:03:00Z"
std::string Iso8601(TimePoint t);

class ServiceLog {
 public:
  ServiceLog(std::ostream* out, bool text, const Clock* clock)
      : out_(out), text_(text), clock_(clock) {}
  // `level`: info, warning or error.
  void Event(const std::string& event, nlohmann::json fields = nlohmann::json::object(),
             const std::string& level = "info");

 private:
  std::mutex mu_;
  std::ostream* out_;
  bool text_;
  const Clock* clock_;
};

}  // namespace arbiter::service
