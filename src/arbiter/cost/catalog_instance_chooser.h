// The catalog-based InstanceChooser launchers and placement use: the asset's
// explicit compute.instance_types.<type> first; otherwise every catalog type
// at least as large as the asked worker (driver) shape, within the asset's
// instance_families, cheapest per node-hour on that runtime type first (EMR
// fleets take several, Databricks the first).
#pragma once

#include <memory>

#include "arbiter/cost/catalog.h"
#include "arbiter/runs/instance_chooser.h"

namespace arbiter::cost {

// The chooser keeps `catalog` alive. Types are ranked at list price in the
// premium Databricks tier (the ranking, not the bill).
runs::InstanceChooser CatalogInstanceChooser(std::shared_ptr<const PriceCatalog> catalog);

}  // namespace arbiter::cost
