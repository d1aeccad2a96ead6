#include "arbiter/cost/change_detector.h"

#include <algorithm>

namespace arbiter::cost {

int ChangeDetector::Add(double z) {
  up_ = std::max(0.0, up_ + z - o_.slack);
  down_ = std::max(0.0, down_ - z - o_.slack);
  int dir = up_ > o_.threshold ? 1 : down_ > o_.threshold ? -1 : 0;
  if (dir != 0) Reset();
  return dir;
}

}  // namespace arbiter::cost
