// Forwarding header, to be deleted: the hashing helpers moved to module crypto
// (arbiter/crypto/crypto.h). Only databricks/databricks_launcher.cc still includes it, until
// its rewrite for issue 17 switches to arbiter/crypto/crypto.h; scripts/check_module_deps.py
// lists that include as pending and fails once it is gone, so this file goes with it.
#pragma once

#include "arbiter/crypto/crypto.h"

namespace arbiter::aws {

using crypto::Sha256Hex;

}  // namespace arbiter::aws
