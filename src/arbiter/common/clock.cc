#include "arbiter/common/clock.h"

#include <thread>

namespace arbiter {

std::chrono::system_clock::time_point SystemClock::WallTime() const {
  return std::chrono::system_clock::now();
}

MonoTime SystemClock::Monotonic() const { return std::chrono::steady_clock::now(); }

void SystemClock::SleepFor(std::chrono::nanoseconds d) const {
  if (d.count() > 0) std::this_thread::sleep_for(d);
}

const Clock& RealClock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace arbiter
