// Which instance types a remote run uses. Launchers take a chooser so the
// price catalog (cost module) can pick by price while launchers stay free of
// pricing; without a catalog, only the asset's explicit choice is honoured.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "arbiter/common/status.h"
#include "arbiter/definitions/project.h"

namespace arbiter::runs {

// Candidate instance types in order of preference (first = preferred). EMR
// fleets use several; Databricks uses the first.
struct InstanceChoice {
  std::vector<std::string> driver;
  std::vector<std::string> worker;
};

using InstanceChooser = std::function<Result<InstanceChoice>(
    const definitions::ComputeSpec& compute, definitions::RuntimeType type,
    std::string_view region)>;

// compute.instance_types[<runtime type name>] for driver and workers; an
// error naming the key to set when the asset gives none for this type.
Result<InstanceChoice> ExplicitInstanceTypes(const definitions::ComputeSpec& compute,
                                             definitions::RuntimeType type,
                                             std::string_view region);

}  // namespace arbiter::runs
