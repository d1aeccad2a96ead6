// What the CLI needs to know of the service: who this process would be as a
// service, whether one serves the storage now (then `materialize` hands its
// runs to it), and backfills as JSON for `backfills` and `backfill`.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "arbiter/cli/command_context.h"
#include "arbiter/storage/storage.h"

namespace arbiter::cli {

// This process as a service's lease (owner "pid:start", this host).
storage::ServiceLease ThisServiceLease();
// Whether the process named "pid:start" runs on this host.
bool OwnerAlive(const std::string& owner);
// The lease of the service serving `storage` now, if any.
std::optional<storage::ServiceLease> ServingService(CommandContext& ctx, storage::Storage& storage);
// "note: no `arbiter serve` ... WHAT when one does" unless a service serves the storage.
void PrintServiceNote(CommandContext& ctx, storage::Storage& storage, const std::string& what);
nlohmann::json BackfillJson(storage::Storage& storage, const storage::BackfillRecord& b);

}  // namespace arbiter::cli
