#include "arbiter/cost/spot_risk.h"

#include <cmath>

namespace arbiter::cost {

SpotRisk::SpotRisk(const PriceCatalog* catalog, double prior_node_hours)
    : catalog_(catalog), prior_node_hours_(prior_node_hours) {}

void SpotRisk::Observe(const std::string& type, double node_hours, bool interrupted) {
  auto& [hours, count] = seen_[type];
  hours += node_hours;
  count += interrupted ? 1 : 0;
}

double SpotRisk::Hazard(const std::string& region, const std::string& type) const {
  int band = catalog_->SpotBand(region, type).value_or(4);
  auto prior = catalog_->BandHazard(band);
  double h0 = prior ? prior->value : 5e-4;
  auto it = seen_.find(type);
  if (it == seen_.end()) return h0;
  return (h0 * prior_node_hours_ + it->second.second) / (prior_node_hours_ + it->second.first);
}

double SpotRisk::InterruptionProbability(const std::string& region, const std::string& type,
                                         int nodes, double hours) const {
  return 1 - std::exp(-Hazard(region, type) * nodes * hours);
}

double ExpectedSpotCost(double spot_usd, double on_demand_usd, double p) {
  return (1 - p) * spot_usd + p * (0.5 * spot_usd + on_demand_usd);
}

}  // namespace arbiter::cost
