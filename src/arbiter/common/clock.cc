#include "arbiter/common/clock.h"

namespace arbiter {

TimePoint SystemClock::Now() const {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace arbiter
