#include "arbiter/cost/catalog_instance_chooser.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "arbiter/common/strings.h"

namespace arbiter::cost {
namespace {

using definitions::RuntimeType;

struct Ranked {
  std::string type;
  InstanceSpec spec;
  double usd_per_hour;
};

// Hourly price of one node of `type` on a runtime type, or nullopt when any
// part is unknown (such types are not offered).
std::optional<double> NodeHourPrice(const PriceCatalog& c, RuntimeType rt, std::string_view region,
                                    const std::string& type) {
  auto od = c.OnDemand(region, type);
  if (!od) return std::nullopt;
  if (rt == RuntimeType::kEmr) {
    auto fee = c.EmrFee(region, type);
    if (!fee) return std::nullopt;
    return od->value + fee->value;
  }
  if (rt == RuntimeType::kDatabricks) {
    auto dbu = c.DbuPerNodeHour(type);
    auto price = c.DbuPrice("premium", "jobs_compute");
    if (!dbu || !price) return std::nullopt;
    return od->value + dbu->value * price->value;
  }
  return od->value;
}

std::vector<std::string> Pick(const std::vector<Ranked>& ranked, const definitions::WorkerShape& want,
                              const std::vector<std::string>& families, double default_vcpu,
                              double default_mem) {
  double vcpu = want.vcpu.value_or(default_vcpu);
  double mem = want.memory_gib.value_or(default_mem);
  std::vector<std::string> out;
  for (const Ranked& r : ranked) {
    if (r.spec.vcpu < vcpu || r.spec.memory_gib < mem) continue;
    std::string family = r.type.substr(0, r.type.find('.'));
    if (!families.empty() && std::find(families.begin(), families.end(), family) == families.end()) {
      continue;
    }
    out.push_back(r.type);
  }
  return out;
}

}  // namespace

runs::InstanceChooser CatalogInstanceChooser(std::shared_ptr<const PriceCatalog> catalog) {
  // Ranked once per (runtime type, region); shapes are filtered per call.
  auto cache = std::make_shared<std::map<std::pair<RuntimeType, std::string>, std::vector<Ranked>>>();
  auto mu = std::make_shared<std::mutex>();
  return [catalog, cache, mu](const definitions::ComputeSpec& compute, RuntimeType type,
                              std::string_view region) -> Result<runs::InstanceChoice> {
    std::string type_name(definitions::RuntimeTypeName(type));
    if (auto it = compute.instance_types.find(type_name);
        it != compute.instance_types.end() && !it->second.empty()) {
      return runs::InstanceChoice{{it->second}, {it->second}};
    }
    std::string reg(region.empty() ? catalog->default_region() : std::string(region));
    const std::vector<Ranked>* ranked;
    {
      std::lock_guard lock(*mu);
      auto& slot = (*cache)[{type, reg}];
      if (slot.empty()) {
        for (const std::string& t : catalog->InstanceTypes()) {
          auto spec = catalog->Instance(t);
          auto price = NodeHourPrice(*catalog, type, reg, t);
          if (spec && price) slot.push_back({t, *spec, *price});
        }
        std::stable_sort(slot.begin(), slot.end(), [](const Ranked& a, const Ranked& b) {
          return a.usd_per_hour != b.usd_per_hour ? a.usd_per_hour < b.usd_per_hour : a.type < b.type;
        });
      }
      ranked = &slot;
    }
    runs::InstanceChoice choice;
    double dv = catalog->DefaultShapeVcpu(), dm = catalog->DefaultShapeMemoryGib();
    choice.worker = Pick(*ranked, compute.worker, compute.instance_families, dv, dm);
    const definitions::WorkerShape& driver =
        compute.driver.vcpu || compute.driver.memory_gib ? compute.driver : compute.worker;
    choice.driver = Pick(*ranked, driver, compute.instance_families, dv, dm);
    if (choice.worker.empty() || choice.driver.empty()) {
      std::string fams = compute.instance_families.empty() ? "any family"
                                                           : "families " + Join(compute.instance_families, ", ");
      return NotFoundError(
          "the price catalog has no priced " + type_name + " instance type in " + reg + " with at least " +
          std::to_string(static_cast<int>(compute.worker.vcpu.value_or(dv))) + " vCPU and " +
          std::to_string(static_cast<int>(compute.worker.memory_gib.value_or(dm))) + " GiB (" + fams +
          "): set compute.instance_types." + type_name + " or widen compute.instance_families");
    }
    return choice;
  };
}

}  // namespace arbiter::cost
