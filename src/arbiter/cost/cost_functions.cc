#include "arbiter/cost/cost_functions.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace arbiter::cost {
namespace {

using definitions::RuntimeType;

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Accumulates lines; any unknown price makes the total unknown. Without
// itemizing only the total is kept: `item` (a callable making the line's
// label) is never called, so the simulator's inner loop builds no strings.
class Bill {
 public:
  explicit Bill(bool itemize = true) : itemize_(itemize) {}
  bool itemize() const { return itemize_; }
  template <typename Item>
  void Add(Item&& item, double quantity, const char* unit, const PriceFact& price) {
    double usd = quantity * price.value;
    total_ += usd;
    if (!itemize_) return;
    e_.lines.push_back({std::string(item()), quantity, unit, price.value, usd,
                        price.source + (price.date.empty() ? "" : " (" + price.date + ")")});
  }
  void Unknown(std::string what) { e_.unknown.push_back(std::move(what)); }
  void Note(std::string what) { e_.notes.push_back(std::move(what)); }
  CostEstimate Done() {
    if (e_.unknown.empty()) e_.usd = total_;
    return std::move(e_);
  }

 private:
  bool itemize_;
  CostEstimate e_;
  double total_ = 0;
};

// A fixed line label.
auto Label(const char* text) {
  return [text] { return text; };
}

std::string DbTier(const definitions::RuntimeConfig* rt) {
  return rt ? rt->databricks.pricing_tier : "premium";
}

// EC2 price of one node-hour in a market; an unknown spot price falls back to
// on-demand (an upper bound, said in a note).
std::optional<PriceFact> Ec2Price(const PriceCatalog& c, const std::string& region,
                                  const std::string& type, bool spot, Bill& bill) {
  if (spot) {
    if (auto p = c.Spot(region, type)) return p;
    bill.Note("no spot price for " + type + " in " + region + ": priced at on-demand (upper bound)");
  }
  auto od = c.OnDemand(region, type);
  if (!od) bill.Unknown("EC2 on-demand price of " + type + " in " + region);
  return od;
}

void PriceClassicGroup(const PriceCatalog& c, const definitions::RuntimeConfig* rt,
                       RuntimeType type, const std::string& region, const std::string& role,
                       const std::string& instance_type, double count, bool spot, double hours,
                       bool photon, Bill& bill) {
  double node_hours = count * hours;
  std::string what = bill.itemize() ? Num(count) + " × " + instance_type + " " + role : "";
  if (auto ec2 = Ec2Price(c, region, instance_type, spot, bill)) {
    bill.Add([&] { return what + (spot ? " EC2 spot" : " EC2 on-demand"); }, node_hours,
             "node-hours", *ec2);
  }
  if (type == RuntimeType::kEmr) {
    if (auto fee = c.EmrFee(region, instance_type)) {
      bill.Add([&] { return what + " EMR fee"; }, node_hours, "node-hours", *fee);
    } else {
      bill.Unknown("EMR fee of " + instance_type + " in " + region);
    }
  } else if (type == RuntimeType::kDatabricks) {
    // DBUs are charged per node-hour whatever the market; Photon multiplies
    // the DBUs consumed, not the $/DBU.
    std::string sku = photon ? "jobs_compute_photon" : "jobs_compute";
    auto rating = c.DbuPerNodeHour(instance_type);
    auto price = c.DbuPrice(DbTier(rt), sku);
    std::optional<PriceFact> factor = photon ? c.PhotonMultiplier("jobs") : PriceFact{1, "factor", "", ""};
    if (!rating) bill.Unknown("DBU rating of " + instance_type);
    if (!price) bill.Unknown("$/DBU of " + sku + " in tier " + DbTier(rt));
    if (!factor) bill.Unknown("Photon DBU multiplier for jobs");
    if (rating && price && factor) {
      double dbus = node_hours * rating->value * factor->value;
      bill.Add([&] { return what + " DBUs (" + sku + ")"; }, dbus, "DBU", *price);
    }
  }
}

}  // namespace

nlohmann::json ClusterShape::ToJson() const {
  nlohmann::json j = {{"type", std::string(definitions::RuntimeTypeName(type))}, {"cores", cores}};
  if (!nodes.empty()) {
    j["nodes"] = nlohmann::json::array();
    for (const auto& n : nodes) {
      j["nodes"].push_back({{"role", n.role},
                            {"instance_type", n.instance_type},
                            {"count", n.count},
                            {"market", n.spot ? "SPOT" : "ON_DEMAND"}});
    }
  }
  if (type == RuntimeType::kEmrServerless) {
    j["workers"] = serverless_workers;
    j["worker_vcpu"] = worker_vcpu;
    j["worker_memory_gib"] = worker_memory_gib;
    j["arch"] = arch;
  }
  if (photon) j["photon"] = true;
  return j;
}

std::string ClusterShape::Describe() const {
  if (type == RuntimeType::kLocal) return "this machine";
  if (type == RuntimeType::kEmrServerless) {
    return Num(serverless_workers) + " × " + Num(worker_vcpu) + " vCPU/" + Num(worker_memory_gib) +
           " GiB workers";
  }
  std::string s;
  for (const auto& n : nodes) {
    if (!s.empty()) s += " + ";
    s += Num(n.count) + " × " + n.instance_type + (n.spot ? " (spot)" : "");
  }
  if (photon) s += ", Photon";
  return s;
}

nlohmann::json CostEstimate::ToJson() const {
  nlohmann::json j = {{"usd", usd ? nlohmann::json(*usd) : nlohmann::json(nullptr)}};
  if (!unknown.empty()) j["unknown"] = unknown;
  if (!notes.empty()) j["notes"] = notes;
  j["lines"] = nlohmann::json::array();
  for (const auto& l : lines) {
    j["lines"].push_back({{"item", l.item},
                          {"quantity", l.quantity},
                          {"unit", l.unit},
                          {"unit_price", l.unit_price},
                          {"usd", l.usd},
                          {"source", l.source}});
  }
  return j;
}

ClusterShape OnDemandOnly(ClusterShape shape) {
  for (auto& n : shape.nodes) n.spot = false;
  return shape;
}

CostEstimate PriceShape(const PriceCatalog& c, const definitions::RuntimeConfig& rt,
                        const ClusterShape& shape, double billed_seconds, bool itemize) {
  Bill bill(itemize);
  std::string region = c.RegionOf(rt);
  double seconds = std::max(0.0, billed_seconds);
  switch (rt.type) {
    case RuntimeType::kLocal:
      return PriceLocalRun(rt, seconds, itemize);
    case RuntimeType::kEmr:
      seconds = std::max(seconds, 60.0);  // EC2 and EMR bill at least a minute
      [[fallthrough]];
    case RuntimeType::kDatabricks:
      for (const auto& n : shape.nodes) {
        PriceClassicGroup(c, &rt, rt.type, region, n.role, n.instance_type, n.count, n.spot,
                          seconds / 3600, shape.photon, bill);
      }
      break;
    case RuntimeType::kEmrServerless: {
      double minimum = c.ServerlessMinimumSeconds() ? c.ServerlessMinimumSeconds()->value : 60;
      double hours = std::max(seconds, minimum) / 3600 * shape.serverless_workers;
      auto vcpu = c.ServerlessVcpuHour(region, shape.arch);
      auto gb = c.ServerlessGbHour(region, shape.arch);
      if (vcpu) bill.Add(Label("vCPU"), hours * shape.worker_vcpu, "vcpu-hours", *vcpu);
      else bill.Unknown("EMR Serverless $/vCPU-hour (" + shape.arch + ") in " + region);
      if (gb) bill.Add(Label("memory"), hours * shape.worker_memory_gib, "gb-hours", *gb);
      else bill.Unknown("EMR Serverless $/GB-hour (" + shape.arch + ") in " + region);
      break;
    }
  }
  return bill.Done();
}

CostEstimate PriceLocalRun(const definitions::RuntimeConfig& rt, double wall_seconds,
                           bool itemize) {
  Bill bill(itemize);
  bill.Add(Label("local machine"), std::max(0.0, wall_seconds) / 3600, "hours",
           PriceFact{rt.local.cost_per_hour, "usd_per_hour",
                     "runtime " + rt.name + " cost_per_hour", "arbiter.yaml"});
  return bill.Done();
}

CostEstimate PriceUsage(const PriceCatalog& c, const definitions::RuntimeConfig* rt,
                        const runs::ResourceUsage& u) {
  Bill bill;
  std::string region = !u.region.empty() ? u.region : rt ? c.RegionOf(*rt) : c.default_region();
  if (u.runtime_type == "local") {
    double hours = 0;
    for (const auto& n : u.nodes) hours = std::max(hours, n.hours);
    double rate = rt ? rt->local.cost_per_hour : 0;
    bill.Add(Label("local machine"), hours, "hours",
             PriceFact{rate, "usd_per_hour", rt ? "runtime " + rt->name + " cost_per_hour" : "local default (0)", "arbiter.yaml"});
    return bill.Done();
  }
  if (u.runtime_type == "emr-serverless") {
    // What the platform billed (billedResourceUtilization).
    std::string arch = u.details.value("architecture", std::string("x86_64"));
    if (arch == "ARM64") arch = "arm64";
    if (arch == "X86_64") arch = "x86_64";
    if (!u.vcpu_hours || !u.memory_gb_hours) {
      bill.Unknown("billed vCPU-hours and GB-hours (the run reported none)");
      return bill.Done();
    }
    auto vcpu = c.ServerlessVcpuHour(region, arch);
    auto gb = c.ServerlessGbHour(region, arch);
    if (vcpu) bill.Add(Label("vCPU"), *u.vcpu_hours, "vcpu-hours", *vcpu);
    else bill.Unknown("EMR Serverless $/vCPU-hour (" + arch + ") in " + region);
    if (gb) bill.Add(Label("memory"), *u.memory_gb_hours, "gb-hours", *gb);
    else bill.Unknown("EMR Serverless $/GB-hour (" + arch + ") in " + region);
    if (u.storage_gb_hours && *u.storage_gb_hours > 0) {
      if (auto st = c.ServerlessStorageGbHour(region)) {
        bill.Add(Label("storage"), *u.storage_gb_hours, "gb-hours", *st);
      } else {
        bill.Unknown("EMR Serverless $/GB-hour of storage in " + region);
      }
    }
    return bill.Done();
  }
  RuntimeType type;
  if (u.runtime_type == "emr") {
    type = RuntimeType::kEmr;
  } else if (u.runtime_type == "databricks") {
    type = RuntimeType::kDatabricks;
  } else {
    bill.Unknown("prices for runtime type " + u.runtime_type);
    return bill.Done();
  }
  if (u.nodes.empty()) {
    // A step on a running EMR cluster or a task on an existing Databricks
    // cluster: the cluster's cost is shared, not this run's alone.
    if (u.details.value("shared_cluster", false) || u.details.contains("existing_cluster_id")) {
      bill.Unknown("this run's share of a shared cluster (it ran on one it did not create)");
    } else {
      bill.Unknown("node usage (the run reported no nodes)");
    }
  }
  for (const auto& n : u.nodes) {
    double hours = type == RuntimeType::kEmr ? std::max(n.hours, 60.0 / 3600) : n.hours;
    PriceClassicGroup(c, rt, type, region, n.role, n.instance_type, n.count, n.market == "SPOT",
                      hours, u.photon, bill);
  }
  // Volumes attached to the nodes, when the runtime reports them.
  if (u.details.contains("ebs_gb_hours") && u.details["ebs_gb_hours"].is_number()) {
    double gb_hours = u.details["ebs_gb_hours"].get<double>();
    if (auto ebs = c.EbsGbMonth(region)) {
      PriceFact per_hour = *ebs;
      per_hour.value /= 730;  // AWS prices a GB-month as 730 hours
      bill.Add(Label("EBS gp3"), gb_hours, "gb-hours", per_hour);
    } else {
      bill.Unknown("EBS $/GB-month in " + region);
    }
  }
  return bill.Done();
}

}  // namespace arbiter::cost
