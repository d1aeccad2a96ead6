// Spot interruption risk per instance type: a Gamma–Poisson estimate of the
// hazard (interruptions per node-hour) whose prior comes from the catalog's
// Spot Advisor band and which observed runs update. Expected cost of a spot
// plan = no-interruption cost + P(interrupted) × (half the spot run lost +
// the whole run again on on-demand). Not thread-safe.
#pragma once

#include <map>
#include <string>

#include "arbiter/cost/catalog.h"

namespace arbiter::cost {

class SpotRisk {
 public:
  // `prior_node_hours`: how many node-hours of evidence the prior is worth.
  explicit SpotRisk(const PriceCatalog* catalog, double prior_node_hours = 2000);

  // A run held `node_hours` of spot capacity of `type`; `interrupted` if it lost any.
  void Observe(const std::string& type, double node_hours, bool interrupted);
  // Interruptions per node-hour: the band prior, updated by observations.
  // Types without a band use the highest band (the cautious choice).
  double Hazard(const std::string& region, const std::string& type) const;
  // Probability that at least one of `nodes` spot nodes is lost within `hours`.
  double InterruptionProbability(const std::string& region, const std::string& type, int nodes,
                                 double hours) const;

 private:
  const PriceCatalog* catalog_;
  double prior_node_hours_;
  std::map<std::string, std::pair<double, int>> seen_;  // type -> (node-hours, interruptions)
};

// E[cost] = (1 − p)·spot + p·(spot/2 + on_demand).
double ExpectedSpotCost(double spot_usd, double on_demand_usd, double p_interrupt);

}  // namespace arbiter::cost
