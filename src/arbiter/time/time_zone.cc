// TimeZone implementation: each zone's offset history is read once from the
// date/tz library into sorted arrays (transition instant, offset) and looked up
// by binary search, so conversions never call into the tz library on the hot
// path. Zones are immutable after construction; the name cache is mutex-guarded.
#include "arbiter/time/time_zone.h"

#include <date/tz.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "arbiter/common/strings.h"

namespace arbiter::time {

bool TimeZone::IsRepeatedLocal(TimePoint utc) const {
  LocalToUtc r = ToUtc(ToLocal(utc));
  return r.ambiguous && r.utc < utc;
}

namespace {

using std::chrono::seconds;

constexpr int64_t kMinInstant = std::numeric_limits<int64_t>::min();
constexpr int64_t kMaxInstant = std::numeric_limits<int64_t>::max();
// The table covers instants up to this year; later ones ask the tz library.
// The system tzdata lists explicit transitions only up to 2037, so in practice
// the last entry already extends to the end of time.
constexpr int kTableLastYear = 2400;
// Larger than any UTC offset that ever existed (+-26h bounds all of them).
constexpr int64_t kMaxOffsetSpan = 27 * 3600;

class TableTimeZone final : public TimeZone {
 public:
  // `tz` may be null for the built-in UTC zone.
  TableTimeZone(std::string name, const date::time_zone* tz) : name_(std::move(name)), tz_(tz) {
    if (tz_ == nullptr) {
      begins_.push_back(kMinInstant);
      offsets_.push_back(0);
      table_end_ = kMaxInstant;
      return;
    }
    BuildTable();
  }

  const std::string& name() const override { return name_; }

  seconds OffsetAt(TimePoint utc) const override {
    int64_t t = utc.time_since_epoch().count();
    if (t >= table_end_) return SlowOffsetAt(utc);
    return seconds(offsets_[Interval(t)]);
  }

  LocalSeconds ToLocal(TimePoint utc) const override {
    return LocalSeconds(utc.time_since_epoch() + OffsetAt(utc));
  }

  LocalToUtc ToUtc(LocalSeconds local) const override {
    int64_t l = local.time_since_epoch().count();
    if (l >= table_end_ - kMaxOffsetSpan) return SlowToUtc(local);
    // Only intervals whose UTC range meets [l - span, l + span] can contain
    // local time l; usually that is one or two.
    size_t lo = Interval(l - kMaxOffsetSpan);
    size_t hi = Interval(l + kMaxOffsetSpan);
    LocalToUtc out;
    int matches = 0;
    for (size_t j = lo; j <= hi; ++j) {
      int64_t u = l - offsets_[j];
      if (u >= begins_[j] && u < IntervalEnd(j)) {
        if (matches == 0) out.utc = TimePoint(seconds(u));  // earliest occurrence
        ++matches;
      }
    }
    if (matches > 1) out.ambiguous = true;
    if (matches > 0) return out;
    // In a gap: the first instant after it is the start of the first interval
    // whose local start lies after l.
    out.nonexistent = true;
    for (size_t j = lo; j <= hi; ++j) {
      if (j > 0 && begins_[j] + offsets_[j] > l) {
        out.utc = TimePoint(seconds(begins_[j]));
        return out;
      }
    }
    out.utc = TimePoint(seconds(l - offsets_[hi]));  // unreachable for sane data
    return out;
  }

  bool IsRepeatedLocal(TimePoint utc) const override {
    int64_t t = utc.time_since_epoch().count();
    if (t >= table_end_) return TimeZone::IsRepeatedLocal(utc);
    size_t j = Interval(t);
    if (j == 0) return false;
    // After a fall-back by d seconds, the first d seconds repeat wall-clock
    // times already seen just before the transition.
    int64_t back = offsets_[j - 1] - offsets_[j];
    return back > 0 && t < begins_[j] + back;
  }

 private:
  void BuildTable() {
    const date::sys_seconds limit{date::sys_days{date::year{kTableLastYear} / 1 / 1}};
    date::sys_seconds t{date::sys_days{date::year{1800} / 1 / 1}};
    table_end_ = kMaxInstant;
    try {
      while (true) {
        date::sys_info info = tz_->get_info(t);
        int64_t begin = begins_.empty() ? kMinInstant : info.begin.time_since_epoch().count();
        int64_t offset = info.offset.count();
        // Abbreviation-only changes (same offset) need no entry.
        if (offsets_.empty() || offsets_.back() != offset) {
          begins_.push_back(begin);
          offsets_.push_back(offset);
        }
        if (info.end >= limit || info.end <= t) {
          if (info.end < date::sys_seconds::max() && info.end > t) {
            table_end_ = info.end.time_since_epoch().count();
          }
          break;
        }
        t = info.end;
      }
    } catch (const std::exception&) {
      // Unreadable tzdata for this zone: keep whatever was read; lookups past
      // it take the slow path, which degrades to the last known offset.
      if (begins_.empty()) {
        begins_.push_back(kMinInstant);
        offsets_.push_back(0);
      }
      table_end_ = kMaxInstant;
    }
  }

  // Index of the interval containing instant t (the last begin <= t).
  size_t Interval(int64_t t) const {
    auto it = std::upper_bound(begins_.begin(), begins_.end(), t);
    return it == begins_.begin() ? 0 : static_cast<size_t>(it - begins_.begin()) - 1;
  }
  int64_t IntervalEnd(size_t j) const {
    return j + 1 < begins_.size() ? begins_[j + 1] : table_end_;
  }

  seconds SlowOffsetAt(TimePoint utc) const {
    try {
      return tz_->get_info(utc).offset;
    } catch (const std::exception&) {
      return seconds(offsets_.back());
    }
  }

  LocalToUtc SlowToUtc(LocalSeconds local) const {
    LocalToUtc out;
    try {
      date::local_info info = tz_->get_info(date::local_seconds(local.time_since_epoch()));
      switch (info.result) {
        case date::local_info::unique:
          out.utc = TimePoint(local.time_since_epoch() - info.first.offset);
          break;
        case date::local_info::ambiguous:
          out.ambiguous = true;
          out.utc = TimePoint(local.time_since_epoch() - info.first.offset);
          break;
        case date::local_info::nonexistent:
          out.nonexistent = true;
          out.utc = info.second.begin;
          break;
      }
    } catch (const std::exception&) {
      out.utc = TimePoint(local.time_since_epoch() - seconds(offsets_.back()));
    }
    return out;
  }

  std::string name_;
  const date::time_zone* tz_;
  // Interval j covers UTC instants [begins_[j], begins_[j+1]) (the last one up
  // to table_end_) with offset offsets_[j]. begins_[0] is the minimum instant.
  std::vector<int64_t> begins_;
  std::vector<int64_t> offsets_;
  int64_t table_end_ = kMaxInstant;
};

struct ZoneCache {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const TimeZone>> zones;
};

ZoneCache& Cache() {
  static ZoneCache* cache = new ZoneCache();  // never destroyed: used until exit
  return *cache;
}

bool IsDuplicateTree(const std::string& name) {
  // Debian ships copies of every zone under posix/ and right/ (leap seconds);
  // they are valid names but make poor suggestions.
  return name.rfind("posix/", 0) == 0 || name.rfind("right/", 0) == 0;
}

}  // namespace

const std::vector<std::string>& KnownTimeZoneNames() {
  static const std::vector<std::string>* names = [] {
    auto* v = new std::vector<std::string>();
    try {
      const date::tzdb& db = date::get_tzdb();
      for (const auto& z : db.zones) {
        if (!IsDuplicateTree(z.name())) v->push_back(z.name());
      }
      // With the system tzdata, links are plain files and already appear as zones.
    } catch (const std::exception&) {
      // No tzdata: only UTC is known.
    }
    v->push_back("UTC");
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
    return v;
  }();
  return *names;
}

std::shared_ptr<const TimeZone> UtcTimeZone() {
  static const std::shared_ptr<const TimeZone> utc =
      std::make_shared<TableTimeZone>("UTC", nullptr);
  return utc;
}

Result<std::shared_ptr<const TimeZone>> LookupTimeZone(std::string_view name) {
  if (name == "UTC") return UtcTimeZone();
  if (name.empty()) return InvalidArgumentError("time zone name is empty");
  std::string key(name);
  ZoneCache& cache = Cache();
  {
    std::lock_guard<std::mutex> lock(cache.mu);
    auto it = cache.zones.find(key);
    if (it != cache.zones.end()) return it->second;
  }
  const date::time_zone* tz = nullptr;
  try {
    tz = date::locate_zone(name);
  } catch (const std::exception&) {
    tz = nullptr;
  }
  if (tz == nullptr) {
    return InvalidArgumentError("unknown time zone " + Quote(name) +
                                DidYouMean(name, KnownTimeZoneNames()));
  }
  // Built outside the lock: reading a zone's data takes a while. A racing
  // lookup of the same name may build it twice; the first stored wins.
  auto zone = std::make_shared<TableTimeZone>(key, tz);
  std::lock_guard<std::mutex> lock(cache.mu);
  auto [it, inserted] = cache.zones.emplace(key, std::move(zone));
  return it->second;
}

}  // namespace arbiter::time
