// Two-sided CUSUM on standardized residuals: says when a series of
// observations has moved for good (a price list, a spot market, a slower
// code version), not when one run was an outlier. One per (asset, runtime)
// and per quantity (cost ratio, duration).
#pragma once

namespace arbiter::cost {

struct ChangeDetectorOptions {
  double slack = 1.0;      // k, in residual sds: drifts smaller than this are noise
  double threshold = 4.0;  // h: alarm when the cumulated excess passes it
};

class ChangeDetector {
 public:
  explicit ChangeDetector(ChangeDetectorOptions o = {}) : o_(o) {}
  // Feeds one residual z = (observed − predicted) / sd. Returns +1 or −1 (the
  // direction) when this observation completes a sustained shift, else 0;
  // an alarm resets the sums.
  int Add(double z);
  void Reset() { up_ = down_ = 0; }

 private:
  ChangeDetectorOptions o_;
  double up_ = 0;
  double down_ = 0;
};

}  // namespace arbiter::cost
