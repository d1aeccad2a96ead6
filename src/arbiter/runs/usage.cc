#include "arbiter/runs/usage.h"

namespace arbiter::runs {
namespace {

void PutOptional(nlohmann::json& j, const char* key, const std::optional<double>& v) {
  if (v) j[key] = *v;
}

Status ReadOptional(const nlohmann::json& j, const char* key, std::optional<double>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return InvalidArgumentError(std::string("usage: '") + key + "' must be a number");
  *out = it->get<double>();
  return Status::Ok();
}

}  // namespace

nlohmann::json UsageToJson(const ResourceUsage& u) {
  nlohmann::json j = {{"runtime_type", u.runtime_type}, {"photon", u.photon}};
  if (!u.region.empty()) j["region"] = u.region;
  nlohmann::json nodes = nlohmann::json::array();
  for (const NodeGroupUsage& n : u.nodes) {
    nodes.push_back({{"role", n.role},
                     {"instance_type", n.instance_type},
                     {"count", n.count},
                     {"market", n.market},
                     {"hours", n.hours}});
  }
  j["nodes"] = std::move(nodes);
  PutOptional(j, "setup_s", u.setup_s);
  PutOptional(j, "execution_s", u.execution_s);
  PutOptional(j, "cleanup_s", u.cleanup_s);
  PutOptional(j, "vcpu_hours", u.vcpu_hours);
  PutOptional(j, "memory_gb_hours", u.memory_gb_hours);
  PutOptional(j, "storage_gb_hours", u.storage_gb_hours);
  PutOptional(j, "normalized_instance_hours", u.normalized_instance_hours);
  if (u.spot_interrupted) j["spot_interrupted"] = true;
  if (!u.details.empty()) j["details"] = u.details;
  return j;
}

Result<ResourceUsage> UsageFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgumentError("usage: expected an object");
  ResourceUsage u;
  auto type = j.find("runtime_type");
  if (type == j.end() || !type->is_string()) {
    return InvalidArgumentError("usage: 'runtime_type' (a string) is required");
  }
  u.runtime_type = type->get<std::string>();
  if (auto it = j.find("region"); it != j.end() && it->is_string()) u.region = it->get<std::string>();
  if (auto it = j.find("photon"); it != j.end() && it->is_boolean()) u.photon = it->get<bool>();
  if (auto it = j.find("spot_interrupted"); it != j.end() && it->is_boolean()) {
    u.spot_interrupted = it->get<bool>();
  }
  if (auto it = j.find("nodes"); it != j.end()) {
    if (!it->is_array()) return InvalidArgumentError("usage: 'nodes' must be an array");
    for (const nlohmann::json& n : *it) {
      if (!n.is_object() || !n.value("count", nlohmann::json()).is_number_integer() ||
          !n.value("hours", nlohmann::json()).is_number()) {
        return InvalidArgumentError("usage: each node group needs an integer 'count' and 'hours'");
      }
      NodeGroupUsage g;
      g.role = n.value("role", "");
      g.instance_type = n.value("instance_type", "");
      g.count = n["count"].get<int>();
      g.market = n.value("market", "ON_DEMAND");
      g.hours = n["hours"].get<double>();
      u.nodes.push_back(std::move(g));
    }
  }
  ARBITER_RETURN_IF_ERROR(ReadOptional(j, "setup_s", &u.setup_s));
  ARBITER_RETURN_IF_ERROR(ReadOptional(j, "execution_s", &u.execution_s));
  ARBITER_RETURN_IF_ERROR(ReadOptional(j, "cleanup_s", &u.cleanup_s));
  ARBITER_RETURN_IF_ERROR(ReadOptional(j, "vcpu_hours", &u.vcpu_hours));
  ARBITER_RETURN_IF_ERROR(ReadOptional(j, "memory_gb_hours", &u.memory_gb_hours));
  ARBITER_RETURN_IF_ERROR(ReadOptional(j, "storage_gb_hours", &u.storage_gb_hours));
  ARBITER_RETURN_IF_ERROR(
      ReadOptional(j, "normalized_instance_hours", &u.normalized_instance_hours));
  if (auto it = j.find("details"); it != j.end() && it->is_object()) u.details = *it;
  return u;
}

}  // namespace arbiter::runs
