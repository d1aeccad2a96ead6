// One service per storage. The lease row names the serving process and is
// renewed every few seconds; a second `arbiter serve` refuses while the
// holder is alive (same host: its process exists; another host: its
// heartbeat is fresh), and takes over at once from a holder that died (a
// kill -9 leaves the row behind). `materialize` looks at the same row to
// decide whether to hand its runs to the service.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "arbiter/common/clock.h"
#include "arbiter/storage/storage.h"

namespace arbiter::service {

// A heartbeat older than this means the holder is gone.
inline constexpr std::chrono::seconds kLeaseTtl{30};
// How often the service renews it.
inline constexpr std::chrono::seconds kLeaseRenewEvery{5};

// Whether the process named by a lease's owner ("pid:start_ticks") runs on
// this host. Injected so tests decide.
using OwnerAlive = std::function<bool(const std::string& owner)>;

// Takes the lease for `me`, or kFailedPrecondition naming the live holder
// and how to stop it.
Status AcquireServiceLease(storage::Storage& storage, const storage::ServiceLease& me,
                           const OwnerAlive& alive, TimePoint now);

// The lease of a live service, if one serves the storage now (a fresh
// heartbeat, and on this host a living process).
Result<std::optional<storage::ServiceLease>> ServingLease(storage::Storage& storage,
                                                          const std::string& host,
                                                          const OwnerAlive& alive, TimePoint now);

}  // namespace arbiter::service
