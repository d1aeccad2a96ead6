// `arbiter check` for the project's `pricing:` section against the price
// catalog: instance types the catalog does not know, private prices above
// list, rates and discounts no runtime of the project uses.
#pragma once

#include "arbiter/common/diagnostics.h"
#include "arbiter/cost/catalog.h"

namespace arbiter::cost {

// `catalog` as loaded (list prices, no overrides).
void CheckPricing(const PriceCatalog& catalog, const definitions::Project& project,
                  Diagnostics* diagnostics);

}  // namespace arbiter::cost
