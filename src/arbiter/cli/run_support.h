// What the run commands (materialize, runs, logs, cancel, partitions and the
// background executor) share: opening the project's storage, the local
// launcher's settings, following runs whose arbiter died, Ctrl-C handling and
// formatting of runs for the terminal.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "arbiter/cli/command_context.h"
#include "arbiter/runs/instance_chooser.h"
#include "arbiter/runs/launcher.h"
#include "arbiter/runs/local_launcher.h"
#include "arbiter/storage/storage.h"

namespace arbiter::cli {

// The project's storage (--storage, then the project file, then the default);
// prints the error and returns nullptr when it cannot be opened.
std::unique_ptr<storage::Storage> OpenProjectStorage(CommandContext& ctx,
                                                     const definitions::Project& project);

runs::LocalLauncherOptions LocalOptionsFor(const CommandContext& ctx,
                                           const definitions::Project& project);

// The launcher for each runtime type, created on first use. The one place
// that maps a runtime type to its implementation.
class Launchers {
 public:
  Launchers(const CommandContext& ctx, const definitions::Project& project,
            storage::Storage* storage);
  ~Launchers();
  // nullptr when the type is not implemented (the run then fails saying so).
  runs::Launcher* For(const definitions::RuntimeConfig& runtime);
  // How remote launchers made after this call pick instance types (the price
  // catalog's chooser); without it, only the asset's explicit choice counts.
  void SetInstanceChooser(runs::InstanceChooser chooser) { chooser_ = std::move(chooser); }

 private:
  const CommandContext& ctx_;
  const definitions::Project& project_;
  storage::Storage* storage_;
  runs::InstanceChooser chooser_ = runs::ExplicitInstanceTypes;
  std::map<definitions::RuntimeType, std::unique_ptr<runs::Launcher>> made_;
  std::mutex mu_;
};

// The runtimes `asset` may use whose credentials cannot be found here, each
// with why (AWS: env, profile, ECS, IMDS; Databricks: its token references).
// Placement treats them as infeasible instead of picking a run that cannot start.
std::map<std::string, std::string> UnavailableRuntimes(const CommandContext& ctx,
                                                       const definitions::Project& project,
                                                       const definitions::AssetDef& asset);

// Starts `arbiter __execute` in the background (its own process group and
// session, output in .arbiter/logs/); returns its process id.
Result<runs::ProcessId> StartBackgroundExecutor(const CommandContext& ctx,
                                                const definitions::Project& project,
                                                const std::vector<std::string>& extra_args);

// Runs whose arbiter died are handed to a background executor that follows
// them to the end. Quiet unless something was recovered.
void RecoverOrphanedRuns(CommandContext& ctx, const definitions::Project& project,
                         storage::Storage& storage);

// While alive, SIGINT and SIGTERM request `cancel` instead of killing us; a
// second one forces it (jobs are killed without a grace period). `on_signal`
// is called (from the signal thread) after each, with whether it forced.
class InterruptToCancel {
 public:
  InterruptToCancel(bool enabled, runs::CancelSignal* cancel,
                    std::function<void(bool forced)> on_signal = nullptr);
  ~InterruptToCancel();
  // The first signal received (SIGINT, SIGTERM), or 0: a command that was
  // interrupted exits with 128 + it, as shells expect.
  int received() const;
  InterruptToCancel(const InterruptToCancel&) = delete;
  InterruptToCancel& operator=(const InterruptToCancel&) = delete;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string FormatRunDuration(const storage::RunRecord& run, TimePoint now);
std::string FormatTimestamp(TimePoint t);  // 2026-11-24 10:00:01Z
std::string Truncate(std::string_view s, size_t max);
nlohmann::json RunJson(const storage::RunRecord& run);
// Stored metadata ({"name": {"type", "raw_value"}}) as "name=value" pairs joined by `sep`.
std::string MetadataSummary(const nlohmann::json& metadata, std::string_view sep);

}  // namespace arbiter::cli
