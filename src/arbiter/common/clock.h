// Clock: the only way Arbiter code reads the time or waits, so that tests can
// run follow loops, retries and schedules in simulated time. SystemClock is the
// real clock; FakeClock is simulated time set by tests. Both are thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace arbiter {

using TimePoint = std::chrono::sys_seconds;
// For intervals and deadlines: never jumps when the wall clock is set.
using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  // Current UTC time, as precise as the clock is.
  virtual std::chrono::system_clock::time_point WallTime() const = 0;
  // Current UTC time, truncated to seconds.
  TimePoint Now() const { return std::chrono::floor<std::chrono::seconds>(WallTime()); }
  virtual MonoTime Monotonic() const = 0;
  // Returns after `d` has passed on this clock.
  virtual void SleepFor(std::chrono::nanoseconds d) const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point WallTime() const override;
  MonoTime Monotonic() const override;
  void SleepFor(std::chrono::nanoseconds d) const override;
};

// The process's real clock, for production code that is given no other.
const Clock& RealClock();

// Simulated time. SleepFor advances it instead of waiting, so a loop that
// polls every 30 s for an hour runs in microseconds; threads sleeping at once
// each advance it. Monotonic time starts at an arbitrary origin.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(TimePoint now) : wall_ns_(ToNs(now.time_since_epoch())) {}
  std::chrono::system_clock::time_point WallTime() const override {
    return std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::nanoseconds(wall_ns_.load())));
  }
  MonoTime Monotonic() const override {
    return MonoTime(std::chrono::duration_cast<MonoTime::duration>(
        std::chrono::nanoseconds(mono_ns_.load())));
  }
  void SleepFor(std::chrono::nanoseconds d) const override {
    if (d.count() > 0) AdvanceBy(d);
  }
  void Set(TimePoint now) { wall_ns_ = ToNs(now.time_since_epoch()); }
  void Advance(std::chrono::nanoseconds d) { AdvanceBy(d); }

 private:
  static int64_t ToNs(std::chrono::nanoseconds d) { return d.count(); }
  void AdvanceBy(std::chrono::nanoseconds d) const {
    wall_ns_.fetch_add(d.count());
    mono_ns_.fetch_add(d.count());
  }
  mutable std::atomic<int64_t> wall_ns_;
  mutable std::atomic<int64_t> mono_ns_{0};
};

}  // namespace arbiter
