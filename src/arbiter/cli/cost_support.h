// What the commands that use the cost engine share: finding the price
// catalog (--catalog, $ARBITER_CATALOG, the project, the installation),
// building the engine from stored history, and pricing runs as they end.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "arbiter/cli/command_context.h"
#include "arbiter/cost/engine.h"
#include "arbiter/runs/run_executor.h"

namespace arbiter::cli {

// The catalog as loaded (no project overrides); prints the error and returns
// nullopt when none is found or it is malformed.
std::optional<cost::PriceCatalog> LoadCatalogOrReport(CommandContext& ctx,
                                                      const definitions::Project* project);

// The engine with the stored history learned; nullptr after printing why not.
std::unique_ptr<cost::Engine> OpenCostEngine(CommandContext& ctx,
                                             const definitions::Project& project,
                                             storage::Storage* storage);

// Prices every run `executor` ends (actual cost and counterfactuals).
void AttachLedger(CommandContext& ctx, runs::RunExecutor& executor, const cost::Engine* engine,
                  storage::Storage* storage);

// "cheapest", "fastest", "fixed:NAME", "cheapest_within:4h" (spaces allowed).
Result<definitions::PlacementPolicy> ParsePolicy(const std::string& text);
// ParsePolicy, and a fixed runtime must be one of the project's (the error
// lists them).
Result<definitions::PlacementPolicy> ParsePolicyFor(const std::string& text,
                                                    const definitions::Project& project);

}  // namespace arbiter::cli
