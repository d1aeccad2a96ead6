#include "arbiter/runs/instance_chooser.h"

namespace arbiter::runs {

Result<InstanceChoice> ExplicitInstanceTypes(const definitions::ComputeSpec& compute,
                                             definitions::RuntimeType type, std::string_view) {
  std::string type_name(definitions::RuntimeTypeName(type));
  auto it = compute.instance_types.find(type_name);
  if (it == compute.instance_types.end() || it->second.empty()) {
    return InvalidArgumentError("no instance type for runtime type " + type_name +
                                ": set compute.instance_types." + type_name +
                                " on the asset (e.g. r5.xlarge)");
  }
  return InstanceChoice{{it->second}, {it->second}};
}

}  // namespace arbiter::runs
