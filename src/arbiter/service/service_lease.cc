#include "arbiter/service/service_lease.h"

namespace arbiter::service {

namespace {

bool HolderLive(const storage::ServiceLease& held, const std::string& host,
                const OwnerAlive& alive, TimePoint now) {
  if (held.host == host) return alive(held.owner);
  return now - held.heartbeat_at <= kLeaseTtl;
}

}  // namespace

Status AcquireServiceLease(storage::Storage& storage, const storage::ServiceLease& me,
                           const OwnerAlive& alive, TimePoint now) {
  // Two rounds: a holder that went away between the read and the swap is
  // read again once.
  for (int round = 0; round < 2; ++round) {
    ARBITER_ASSIGN_OR_RETURN(std::optional<storage::ServiceLease> held, storage.GetServiceLease());
    if (held && held->owner != me.owner && HolderLive(*held, me.host, alive, now)) {
      const std::string pid = held->owner.substr(0, held->owner.find(':'));
      return FailedPreconditionError(
          "another `arbiter serve` already serves this storage (pid " + pid + " on " + held->host +
          (held->listen.empty() ? "" : ", listening on " + held->listen) +
          "); one service per storage. Stop it first (kill -TERM " + pid +
          "), or use PostgreSQL storage for several services");
    }
    ARBITER_ASSIGN_OR_RETURN(
        bool taken, storage.ReplaceServiceLease(
                        held ? std::optional<std::string>(held->owner) : std::nullopt, me));
    if (taken) return Status::Ok();
  }
  return FailedPreconditionError(
      "another `arbiter serve` took this storage's lease while this one started; one service "
      "per storage");
}

Result<std::optional<storage::ServiceLease>> ServingLease(storage::Storage& storage,
                                                          const std::string& host,
                                                          const OwnerAlive& alive, TimePoint now) {
  ARBITER_ASSIGN_OR_RETURN(std::optional<storage::ServiceLease> held, storage.GetServiceLease());
  if (!held || !HolderLive(*held, host, alive, now)) return std::optional<storage::ServiceLease>();
  // Same host and alive, but silent for long: hung, not serving.
  if (now - held->heartbeat_at > kLeaseTtl * 4) return std::optional<storage::ServiceLease>();
  return held;
}

}  // namespace arbiter::service
