// Internal to the loader: one parser per top-level section of arbiter.yaml.
// Each reads YAML nodes through a YamlReader (which reports problems) and adds
// what it could understand to the Project. Cross-references between sections
// (deps, runtime names, partitions names) are checked afterwards by
// LinkProject, which needs every file's sections first.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "arbiter/definitions/yaml_document.h"

#include "arbiter/common/clock.h"
#include "arbiter/definitions/project.h"
#include "arbiter/definitions/yaml_reader.h"

namespace arbiter::definitions::internal {

// Where an asset's references were written, for errors found while linking.
struct AssetRefs {
  std::vector<SourceLocation> deps;      // parallel to AssetDef::deps
  std::vector<SourceLocation> runtimes;  // parallel to AssetDef::runtimes
  SourceLocation partitions;
  SourceLocation placement;
  SourceLocation pool;
  bool runtimes_explicit = false;
  bool placement_explicit = false;
  bool retries_explicit = false;
  bool priority_explicit = false;
  std::map<std::string, SourceLocation> overrides;
};

struct Defaults {
  std::vector<std::string> runtimes;
  std::vector<SourceLocation> runtime_locations;
  std::optional<PlacementPolicy> placement;
  SourceLocation placement_location;
  std::optional<RetryPolicy> retries;
  std::optional<int> priority;
};

// A section node and the reader of the file it came from.
struct Section {
  const YamlReader* reader;
  yaml::Node node;
};

void ParsePartitions(const std::vector<Section>& sections, TimePoint now, Project* project);
void ParseRuntimes(const std::vector<Section>& sections, Project* project);
void ParseAssets(const std::vector<Section>& sections, const std::string& root, Project* project,
                 std::map<AssetKey, AssetRefs>* refs);
void ParseDefaults(const Section& section, Defaults* defaults);
void ParsePricing(const std::vector<Section>& sections, Project* project);
void ParseSchedules(const std::vector<Section>& sections, Project* project,
                    std::map<std::string, std::vector<std::pair<std::string, SourceLocation>>>*
                        schedule_assets);
void ParsePools(const std::vector<Section>& sections, Project* project);
void ParseService(const Section& section, Project* project);

// Applies defaults and checks every cross-reference; reports cycles.
void LinkProject(const Defaults& defaults, std::map<AssetKey, AssetRefs>& refs,
                 const std::map<std::string, std::vector<std::pair<std::string, SourceLocation>>>&
                     schedule_assets,
                 const Environment& env, Project* project, Diagnostics* diags);

// Warns about runtime settings whose ${env:}/${file:} references do not resolve
// here (a token not set): `arbiter check` shows them; other commands leave it
// to the moment a runtime is used.
void CheckRuntimeReferences(const Project& project, const Environment& env, Diagnostics* diags);

// Parses a placement value: "cheapest", "fastest", {fixed: NAME},
// {cheapest_within: DURATION}.
std::optional<PlacementPolicy> ParsePlacement(const YamlReader& r, const yaml::Node& node);

// Parses the `retries:` value of `map` (an asset or `defaults:`): a number of
// attempts, or {max_attempts, backoff, max_backoff, jitter, retry_user_errors,
// other_runtime}. nullopt if absent or invalid (reported).
std::optional<RetryPolicy> ParseRetries(const YamlReader& r, const yaml::Node& map);

// `priority:` of an asset or of `defaults:`.
std::optional<int> ParsePriority(const YamlReader& r, const yaml::Node& map);

}  // namespace arbiter::definitions::internal
