// WaitUntil: an explicit wait for tests. Polls an observable condition until it
// holds or a generous deadline passes (a slow machine only makes it slower, a
// broken one fails with a false), instead of sleeping and hoping.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace arbiter::testing {

inline bool WaitUntil(const std::function<bool()>& pred,
                      std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

}  // namespace arbiter::testing
