// Clock: the only way Arbiter code reads the current time, so that tests can
// control it. SystemClock reads the real clock; FakeClock is set by tests.
// Both are thread-safe.
#pragma once

#include <atomic>
#include <chrono>

namespace arbiter {

using TimePoint = std::chrono::sys_seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Current UTC time, truncated to seconds.
  virtual TimePoint Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint now) : now_(now.time_since_epoch().count()) {}
  TimePoint Now() const override { return TimePoint(std::chrono::seconds(now_.load())); }
  void Set(TimePoint now) { now_ = now.time_since_epoch().count(); }
  void Advance(std::chrono::seconds d) { now_ += d.count(); }

 private:
  std::atomic<std::chrono::seconds::rep> now_;
};

}  // namespace arbiter
