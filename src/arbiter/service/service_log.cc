#include "arbiter/service/service_log.h"

#include <ctime>

namespace arbiter::service {

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
      std::string value = v.is_string() ? v.get<std::string>() : v.dump();
      if (value.find(' ') != std::string::npos) value = nlohmann::json(value).dump();
      line += " " + k + "=" + value;
    }
  } else {
    nlohmann::json j = {{"ts", ts}, {"level", level}, {"event", event}};
    for (const auto& [k, v] : fields.items()) j[k] = v;
    line = j.dump();
  }
  std::lock_guard lock(mu_);
  *out_ << line << "\n" << std::flush;
}

}  // namespace arbiter::service
