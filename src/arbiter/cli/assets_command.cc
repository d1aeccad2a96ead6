// `arbiter assets`: the project's assets in dependency order.
#include "arbiter/cli/command_context.h"
#include "arbiter/cli/text_table.h"
#include "arbiter/common/duration.h"
#include "arbiter/common/strings.h"
#include "arbiter/definitions/asset_graph.h"

namespace arbiter::cli {
namespace {

using definitions::AssetDef;
using definitions::Project;

std::vector<std::string> KeyStrings(const std::vector<definitions::AssetKey>& keys) {
  std::vector<std::string> out;
  for (const auto& k : keys) out.push_back(k.str());
  return out;
}

nlohmann::json AssetJson(const Project& p, const AssetDef& a,
                         const definitions::AssetGraph& graph) {
  nlohmann::json j = {
      {"key", a.key.str()},
      {"description", a.description},
      {"deps", KeyStrings(a.deps)},
      {"dependents", KeyStrings(graph.Dependents(a.key))},
      {"runtimes", a.runtimes},
      {"placement", a.placement.ToString()},
      {"job",
       {{"kind", definitions::JobKindName(a.job.kind)},
        {"script", a.job.script},
        {"command", a.job.command},
        {"args", a.job.args}}},
      {"compute",
       {{"workers", a.compute.workers}, {"spot", a.compute.spot}, {"photon", a.compute.photon}}},
      {"code_version", a.code_version},
      {"owners", a.owners},
      {"tags", a.tags},
      {"location", a.location.ToString()}};
  if (a.compute.max_workers) j["compute"]["max_workers"] = *a.compute.max_workers;
  if (a.compute.max_duration) {
    j["compute"]["max_duration"] = FormatDuration(*a.compute.max_duration);
  }
  if (const auto* def = p.PartitionsOf(a)) {
    j["partitions"] = {{"name", a.partitions},
                       {"kind", definitions::PartitionsKindName(def->kind())},
                       {"count", def->Size()},
                       {"description", def->Describe()}};
  } else {
    j["partitions"] = nullptr;
  }
  return j;
}

}  // namespace

int RunAssets(CommandContext& ctx) {
  auto loaded = ctx.LoadOrReport();
  if (!loaded) return kExitFailure;
  const Project& p = *loaded->project;
  definitions::AssetGraph graph(p.assets);
  if (ctx.flags().json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& key : graph.TopologicalOrder()) {
      list.push_back(AssetJson(p, p.assets.at(key), graph));
    }
    ctx.out() << nlohmann::json{{"project", p.name}, {"assets", list}}.dump(2) << "\n";
    return kExitOk;
  }
  TextTable table({"ASSET", "DEPS", "PARTITIONS", "RUNTIMES", "PLACEMENT"});
  for (const auto& key : graph.TopologicalOrder()) {
    const AssetDef& a = p.assets.at(key);
    std::string parts = "-";
    if (const auto* def = p.PartitionsOf(a)) {
      parts = a.partitions + " (" + std::to_string(def->Size()) + ")";
    }
    std::string deps = a.deps.empty() ? "-" : Join(KeyStrings(a.deps), ", ");
    table.AddRow({a.key.str(), deps, parts, Join(a.runtimes, ", "), a.placement.ToString()});
  }
  table.Print(ctx.out());
  return kExitOk;
}

}  // namespace arbiter::cli
