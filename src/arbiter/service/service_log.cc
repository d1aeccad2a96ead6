#include "arbiter/service/service_log.h"

#include <ctime>

namespace arbiter::service {

namespace {

// Messages carry what platforms and jobs said, which need not be UTF-8: invalid
// bytes become U+FFFD instead of an exception on a follower's thread.
std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::string Iso8601(TimePoint t) {
  std::time_t s = t.time_since_epoch().count();
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void ServiceLog::Event(const std::string& event, nlohmann::json fields, const std::string& level) {
  const std::string ts = Iso8601(clock_->Now());
  std::string line;
  if (text_) {
    line = ts + " " + (level == "info" ? "" : level + ": ") + event;
    for (const auto& [k, v] : fields.items()) {
      std::string value = v.is_string() ? v.get<std::string>() : Dump(v);
      if (value.find(' ') != std::string::npos) value = Dump(nlohmann::json(value));
      line += " " + k + "=" + value;
    }
  } else {
    nlohmann::json j = {{"ts", ts}, {"level", level}, {"event", event}};
    for (const auto& [k, v] : fields.items()) j[k] = v;
    line = Dump(j);
  }
  std::lock_guard lock(mu_);
  *out_ << line << "\n" << std::flush;
}

}  // namespace arbiter::service
