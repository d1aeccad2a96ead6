// The `partitions:` section: named partitions definitions (static, time,
// dynamic, multi). Multi definitions refer to other names, so they are built
// after every other kind, from every file.
#include <set>

#include "arbiter/common/strings.h"
#include "arbiter/definitions/partitions/dynamic_partitions.h"
#include "arbiter/definitions/partitions/multi_partitions.h"
#include "arbiter/definitions/partitions/static_partitions.h"
#include "arbiter/definitions/partitions/time_window_partitions.h"
#include "arbiter/definitions/project_sections.h"
#include "arbiter/time/local_date_time.h"

namespace arbiter::definitions::internal {
namespace {

const std::vector<std::string> kKinds = {"static", "time", "dynamic", "multi"};
const std::vector<std::string> kDefKeys = {"static", "time", "dynamic", "multi", "description"};
const std::vector<std::string> kTimeKeys = {"cadence",       "start",       "end",
                                            "timezone",      "format",      "minute_offset",
                                            "hour_offset",   "day_of_week", "day_of_month"};
const std::vector<std::string> kCadences = {"hourly", "daily", "weekly", "monthly"};
const std::vector<std::string> kWeekdays = {"sunday",   "monday", "tuesday", "wednesday",
                                            "thursday", "friday", "saturday"};

bool ValidName(const std::string& n) {
  if (n.empty()) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '_' || c == '-'))
      return false;
  }
  return true;
}

std::optional<time::LocalSeconds> LocalTime(const YamlReader& r, const yaml::Node& map,
                                            const char* key) {
  yaml::Node n = r.Get(map, key);
  auto s = r.String(map, key);
  if (!s) return std::nullopt;
  Result<time::LocalSeconds> t = time::ParseLocalDateTime(*s);
  if (!t.ok()) {
    r.Error(n, "invalid " + std::string(key) + ": " + t.status().message());
    return std::nullopt;
  }
  return *t;
}

std::shared_ptr<const PartitionsDef> ParseTime(const YamlReader& r, const yaml::Node& node,
                                               const std::string& name, TimePoint now) {
  if (!r.CheckKeys(node, "time partitions '" + name + "'", kTimeKeys)) return nullptr;
  bool ok = true;
  TimeWindowSpec spec;
  auto cadence = r.Enum(node, "cadence", kCadences, /*required=*/true);
  if (!cadence) ok = false;
  if (cadence == "hourly") spec.cadence = Cadence::kHourly;
  if (cadence == "daily") spec.cadence = Cadence::kDaily;
  if (cadence == "weekly") spec.cadence = Cadence::kWeekly;
  if (cadence == "monthly") spec.cadence = Cadence::kMonthly;

  if (!r.Get(node, "start").IsDefined()) {
    r.Error(node, "time partitions '" + name + "' need a 'start' (e.g. start: 2024-01-01)");
    ok = false;
  } else if (auto start = LocalTime(r, node, "start")) {
    spec.start = *start;
  } else {
    ok = false;
  }
  if (r.Get(node, "end").IsDefined()) {
    if (auto end = LocalTime(r, node, "end")) {
      spec.end = *end;
    } else {
      ok = false;
    }
  }
  if (auto tz = r.String(node, "timezone")) {
    Result<std::shared_ptr<const time::TimeZone>> zone = time::LookupTimeZone(*tz);
    if (!zone.ok()) {
      r.Error(r.Get(node, "timezone"), zone.status().message(),
              "use an IANA name such as UTC, Europe/Vienna or America/New_York");
      ok = false;
    }
    spec.timezone = *tz;
  }
  if (auto format = r.String(node, "format")) {
    Result<time::KeyFormat> f = time::KeyFormat::Compile(*format);
    Status s = f.ok() ? ValidateKeyFormatForCadence(*f, spec.cadence) : f.status();
    if (!s.ok()) {
      r.Error(r.Get(node, "format"), "invalid key format: " + s.message());
      ok = false;
    }
    spec.format = *format;
  }
  if (auto m = r.Int(node, "minute_offset", 0, 59)) spec.minute_offset = static_cast<int>(*m);
  if (auto h = r.Int(node, "hour_offset", 0, 23)) {
    spec.hour_offset = static_cast<int>(*h);
    if (spec.cadence == Cadence::kHourly) {
      r.Error(r.Get(node, "hour_offset"), "hour_offset does not apply to hourly partitions",
              "use minute_offset to shift hourly windows");
      ok = false;
    }
  }
  yaml::Node dow = r.Get(node, "day_of_week");
  if (dow.IsDefined()) {
    if (spec.cadence != Cadence::kWeekly) {
      r.Error(dow, "day_of_week applies only to weekly partitions");
      ok = false;
    } else if (auto d = r.Enum(node, "day_of_week", kWeekdays)) {
      spec.day_offset = static_cast<int>(
          std::find(kWeekdays.begin(), kWeekdays.end(), *d) - kWeekdays.begin());
    } else {
      ok = false;
    }
  }
  yaml::Node dom = r.Get(node, "day_of_month");
  if (dom.IsDefined()) {
    if (spec.cadence != Cadence::kMonthly) {
      r.Error(dom, "day_of_month applies only to monthly partitions");
      ok = false;
    } else if (auto d = r.Int(node, "day_of_month", 1, 28)) {
      spec.day_offset = static_cast<int>(*d);
    } else {
      ok = false;
    }
  }
  if (!ok) return nullptr;
  Result<std::unique_ptr<TimeWindowPartitions>> def = TimeWindowPartitions::Create(spec, now);
  if (!def.ok()) {
    yaml::Node at = r.Get(node, "end").IsDefined() ? r.Get(node, "end") : node;
    r.Error(at, "time partitions '" + name + "': " + def.status().message());
    return nullptr;
  }
  return std::shared_ptr<const PartitionsDef>(std::move(def).value());
}

std::shared_ptr<const PartitionsDef> ParseStatic(const YamlReader& r, const yaml::Node& node,
                                                 const std::string& name) {
  if (!node.IsSequence()) {
    r.Error(node, "static partitions '" + name + "' must be a list of keys, e.g. [a, b, c]");
    return nullptr;
  }
  std::vector<std::string> keys;
  std::set<std::string> seen;
  bool ok = true;
  for (const yaml::Node& item : node.items()) {
    auto key = r.ScalarText(item, "a static partition key");
    if (!key) {
      ok = false;
      continue;
    }
    Status s = ValidatePartitionKey(*key);
    if (!s.ok()) {
      r.Error(item, s.message());
      ok = false;
    } else if (!seen.insert(*key).second) {
      r.Error(item, "duplicate partition key " + Quote(*key) + " in '" + name + "'");
      ok = false;
    }
    keys.push_back(*key);
  }
  if (keys.empty() && ok) {
    r.Error(node, "static partitions '" + name + "' list no keys");
    return nullptr;
  }
  if (!ok) return nullptr;
  auto def = StaticPartitions::Create(std::move(keys));
  if (!def.ok()) {
    r.Error(node, def.status().message());
    return nullptr;
  }
  return std::shared_ptr<const PartitionsDef>(std::move(def).value());
}

}  // namespace

void ParsePartitions(const std::vector<Section>& sections, TimePoint now, Project* project) {
  struct Pending {
    const YamlReader* reader;
    std::string name;
    yaml::Node node;  // the `multi:` mapping
    SourceLocation location;
  };
  std::vector<Pending> multis;
  for (const Section& sec : sections) {
    const YamlReader& r = *sec.reader;
    if (!r.ExpectMap(sec.node, "'partitions'")) continue;
    for (auto it = sec.node.begin(); it != sec.node.end(); ++it) {
      auto name = r.ScalarText(it->first, "a partitions name");
      if (!name) continue;
      SourceLocation loc = r.Loc(it->first);
      if (!ValidName(*name)) {
        r.Error(it->first, "invalid partitions name " + Quote(*name),
                "names use letters, digits, '_' and '-'");
        continue;
      }
      if (auto prev = project->partitions.find(*name); prev != project->partitions.end()) {
        r.Error(it->first, "partitions " + Quote(*name) + " are defined twice",
                "first defined at " + prev->second.location.ToString());
        continue;
      }
      const yaml::Node& body = it->second;
      std::string what = "partitions " + Quote(*name);
      if (!r.CheckKeys(body, what, kDefKeys)) continue;
      std::vector<std::string> kinds;
      for (const auto& k : kKinds) {
        if (r.Get(body, k).IsDefined()) kinds.push_back(k);
      }
      if (kinds.size() != 1) {
        r.Error(it->first,
                what + (kinds.empty() ? " need a kind" : " have more than one kind (" +
                                                             Join(kinds, ", ") + ")"),
                "give exactly one of: static, time, dynamic, multi");
        // Keep the name known so assets using it do not report a second error.
        project->partitions[*name] = {*name, nullptr, loc};
        continue;
      }
      yaml::Node def_node = r.Get(body, kinds[0]);
      std::shared_ptr<const PartitionsDef> def;
      if (kinds[0] == "static") {
        def = ParseStatic(r, def_node, *name);
      } else if (kinds[0] == "time") {
        def = ParseTime(r, def_node, *name, now);
      } else if (kinds[0] == "dynamic") {
        if (!def_node.IsNull() && !(def_node.IsMap() && def_node.size() == 0) &&
            !(def_node.IsScalar() && def_node.Scalar() == "true")) {
          r.Error(def_node, "dynamic partitions take no settings; write 'dynamic: {}'");
        } else {
          def = std::make_shared<DynamicPartitions>(*name);
        }
      } else {
        multis.push_back({&r, *name, def_node, loc});
      }
      project->partitions[*name] = {*name, def, loc};
    }
  }
  std::set<std::string> multi_names;
  for (const Pending& m : multis) multi_names.insert(m.name);
  for (const Pending& m : multis) {
    const YamlReader& r = *m.reader;
    std::string what = "multi partitions '" + m.name + "'";
    if (!r.ExpectMap(m.node, what)) continue;
    if (m.node.size() != 2) {
      r.Error(m.node, what + " must have exactly two dimensions, not " +
                          std::to_string(m.node.size()),
              "e.g. multi: {crawl: crawls, seed: seed_sets}");
      continue;
    }
    std::vector<PartitionDimension> dims;
    for (auto it = m.node.begin(); it != m.node.end(); ++it) {
      auto dim = r.ScalarText(it->first, "a dimension name");
      auto ref = r.ScalarText(it->second, "a dimension's partitions name");
      if (!dim || !ref) continue;
      auto target = project->partitions.find(*ref);
      if (target == project->partitions.end()) {
        std::vector<std::string> names;
        for (const auto& [n, e] : project->partitions) names.push_back(n);
        r.Error(it->second, what + ": unknown partitions " + Quote(*ref) + DidYouMean(*ref, names));
        continue;
      }
      if (multi_names.count(*ref)) {
        r.Error(it->second, what + ": dimension " + Quote(*dim) +
                                " cannot itself be multi-dimensional");
        continue;
      }
      if (!target->second.def) continue;  // its own error was reported
      dims.push_back({*dim, target->second.def});
    }
    if (dims.size() == 2) {
      project->partitions[m.name].def = std::make_shared<MultiPartitions>(dims[0], dims[1]);
    }
  }
}

}  // namespace arbiter::definitions::internal
