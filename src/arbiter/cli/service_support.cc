#include "arbiter/cli/service_support.h"

#include <unistd.h>

#include "arbiter/runs/process.h"
#include "arbiter/service/backfills.h"
#include "arbiter/service/service_lease.h"
#include "arbiter/service/service_log.h"

namespace arbiter::cli {

namespace {

std::string HostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

}  // namespace

storage::ServiceLease ThisServiceLease() {
  storage::ServiceLease l;
  l.owner = runs::CurrentProcess().ToString();
  l.host = HostName();
  return l;
}

bool OwnerAlive(const std::string& owner) {
  std::optional<runs::ProcessId> id = runs::ProcessId::Parse(owner);
  return id && runs::IsProcessAlive(*id);
}

std::optional<storage::ServiceLease> ServingService(CommandContext& ctx, storage::Storage& storage) {
  Result<std::optional<storage::ServiceLease>> lease =
      service::ServingLease(storage, HostName(), OwnerAlive, ctx.env().clock->Now());
  if (!lease.ok()) return std::nullopt;
  return *lease;
}

void PrintServiceNote(CommandContext& ctx, storage::Storage& storage, const std::string& what) {
  if (ServingService(ctx, storage)) return;
  ctx.err() << "note: no `arbiter serve` serves this project's storage now; " << what
            << " when one does\n";
}

nlohmann::json BackfillJson(storage::Storage& storage, const storage::BackfillRecord& b) {
  nlohmann::json j = {{"backfill_id", b.backfill_id},
                      {"status", storage::BackfillStatusName(b.status)},
                      {"assets", b.assets},
                      {"runtime", b.runtime.empty() ? "auto" : b.runtime},
                      {"created_at", service::Iso8601(b.created_at)},
                      {"updated_at", service::Iso8601(b.updated_at)},
                      {"message", b.message}};
  Result<service::BackfillProgress> p = service::ProgressOf(storage, b);
  j["partitions"] = p.ok() ? p->partitions : b.partitions.Count();
  j["handed_out"] = p.ok() ? p->handed_out : 0;
  nlohmann::json runs = nlohmann::json::object();
  if (p.ok()) {
    for (const auto& [status, n] : p->runs) runs[std::string(storage::RunStatusName(status))] = n;
  }
  j["runs"] = runs;
  return j;
}

}  // namespace arbiter::cli
