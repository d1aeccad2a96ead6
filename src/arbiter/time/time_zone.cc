// TimeZone implementation: each zone's offset history is read once from the
// date/tz library into sorted arrays (transition instant, offset) and looked up
// by binary search, so conversions never call into the tz library on the hot
// path. Zones are immutable after construction; the name cache is mutex-guarded.
#include "arbiter/time/time_zone.h"

#include <date/tz.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "arbiter/common/strings.h"
#include "arbiter/time/local_date_time.h"

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
constexpr int kTableLastYear = 2400;
// Larger than any UTC offset that ever existed (+-26h bounds all of them).
constexpr int64_t kMaxOffsetSpan = 27 * 3600;
// Where USE_OS_TZDB builds of the date library read zones from.
constexpr const char* kZoneInfoDir = "/usr/share/zoneinfo/";

// --- Transitions after the last one listed in the tzdata file --------------
//
// TZif files list explicit transitions only up to 2037; later ones follow the
// POSIX TZ rule in the file's footer (e.g. "CET-1CEST,M3.5.0,M10.5.0/3"). The
// date library in USE_OS_TZDB mode ignores that footer, so we extend the
// table from it ourselves.

struct PosixRuleDate {
  char kind = 'M';  // 'M' (month.week.day), 'J' (1..365, no Feb 29), 'n' (0..365)
  int month = 0, week = 0, weekday = 0, day = 0;
  int64_t time = 7200;  // seconds after local midnight; may be negative or > 24h
};

struct PosixTz {
  int64_t std_offset = 0;  // UTC offset, east positive (POSIX writes it inverted)
  int64_t dst_offset = 0;
  bool has_dst = false;
  PosixRuleDate start, end;  // start in standard time, end in DST
};

class PosixParser {
 public:
  explicit PosixParser(std::string_view s) : s_(s) {}

  std::optional<PosixTz> Parse() {
    PosixTz tz;
    int64_t off = 0;
    if (!Name() || !Offset(&off)) return std::nullopt;
    tz.std_offset = -off;
    if (AtEnd()) return tz;
    if (!Name()) return std::nullopt;
    tz.has_dst = true;
    tz.dst_offset = tz.std_offset + 3600;
    if (!AtEnd() && Peek() != ',') {
      if (!Offset(&off)) return std::nullopt;
      tz.dst_offset = -off;
    }
    if (AtEnd()) return std::nullopt;  // no rule: would need a default rule
    if (!Eat(',') || !RuleDate(&tz.start) || !Eat(',') || !RuleDate(&tz.end) || !AtEnd()) {
      return std::nullopt;
    }
    return tz;
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  bool Name() {
    if (Eat('<')) {
      const size_t close = s_.find('>', pos_);
      if (close == std::string_view::npos) return false;
      pos_ = close + 1;
      return true;
    }
    const size_t begin = pos_;
    while (!AtEnd() && ((Peek() >= 'A' && Peek() <= 'Z') || (Peek() >= 'a' && Peek() <= 'z'))) {
      ++pos_;
    }
    return pos_ - begin >= 3;
  }
  bool Number(int64_t* v, int max_digits) {
    const size_t begin = pos_;
    *v = 0;
    while (!AtEnd() && Peek() >= '0' && Peek() <= '9' && pos_ - begin < size_t(max_digits)) {
      *v = *v * 10 + (s_[pos_++] - '0');
    }
    return pos_ > begin;
  }
  // [+-]h[hh][:mm[:ss]] in seconds.
  bool Offset(int64_t* out) {
    const bool negative = Eat('-');
    if (!negative) Eat('+');
    int64_t h = 0, m = 0, sec = 0;
    if (!Number(&h, 3)) return false;
    if (Eat(':') && (!Number(&m, 2) || (Eat(':') && !Number(&sec, 2)))) return false;
    *out = (negative ? -1 : 1) * (h * 3600 + m * 60 + sec);
    return true;
  }
  bool RuleDate(PosixRuleDate* d) {
    int64_t a = 0, b = 0, c = 0;
    if (Eat('M')) {
      if (!Number(&a, 2) || !Eat('.') || !Number(&b, 1) || !Eat('.') || !Number(&c, 1)) {
        return false;
      }
      if (a < 1 || a > 12 || b < 1 || b > 5 || c > 6) return false;
      d->kind = 'M';
      d->month = static_cast<int>(a);
      d->week = static_cast<int>(b);
      d->weekday = static_cast<int>(c);
    } else if (Eat('J')) {
      if (!Number(&a, 3) || a < 1 || a > 365) return false;
      d->kind = 'J';
      d->day = static_cast<int>(a);
    } else {
      if (!Number(&a, 3) || a > 365) return false;
      d->kind = 'n';
      d->day = static_cast<int>(a);
    }
    if (Eat('/') && !Offset(&d->time)) return false;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
};

// Local seconds (as if UTC) at which rule date `d` happens in `year`.
int64_t RuleLocalSeconds(const PosixRuleDate& d, int64_t year) {
  int64_t days = 0;
  if (d.kind == 'M') {
    const int64_t first = DaysFromCivil(year, d.month, 1);
    int64_t day = (d.weekday - WeekdayFromDays(first) + 7) % 7 + (d.week - 1) * 7;
    if (day >= DaysInMonth(year, d.month)) day -= 7;  // week 5 = last
    days = first + day;
  } else if (d.kind == 'J') {
    // 1..365, February 29 is never counted.
    days = DaysFromCivil(year, 1, 1) + d.day - 1 + (IsLeapYear(year) && d.day >= 60 ? 1 : 0);
  } else {
    days = DaysFromCivil(year, 1, 1) + d.day;
  }
  return days * 86400 + d.time;
}

// The POSIX TZ footer of a TZif (version 2+) file, or "" if there is none.
std::string ReadTzifFooter(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (data.size() < 6 || data.compare(0, 4, "TZif") != 0 || data[4] < '2') return "";
  if (data.back() != '\n') return "";
  const size_t open = data.rfind('\n', data.size() - 2);
  if (open == std::string::npos) return "";
  return data.substr(open + 1, data.size() - open - 2);
}

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
    // Local time l can only map to instants in [l - max_offset, l - min_offset];
    // the intervals meeting that range are usually one, at most a few.
    size_t lo = Interval(l - max_offset_);
    size_t hi = Interval(l - min_offset_);
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
    return Repeated(Interval(t), t);
  }

  UtcInfo InfoAt(TimePoint utc) const override {
    int64_t t = utc.time_since_epoch().count();
    if (t >= table_end_) return TimeZone::InfoAt(utc);
    const size_t j = Interval(t);
    return UtcInfo{seconds(offsets_[j]), Repeated(j, t)};
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
    ExtendFromPosixRule(limit.time_since_epoch().count());
    BuildBuckets();
    min_offset_ = *std::min_element(offsets_.begin(), offsets_.end());
    max_offset_ = *std::max_element(offsets_.begin(), offsets_.end());
  }

  // Appends the rule-based transitions after the last listed one, up to `limit`.
  void ExtendFromPosixRule(int64_t limit) {
    const std::string footer = ReadTzifFooter(std::string(kZoneInfoDir) + tz_->name());
    const std::optional<PosixTz> rule = PosixParser(footer).Parse();
    if (!rule.has_value() || !rule->has_dst) return;
    const int64_t last = begins_.back();
    if (last == kMinInstant) return;
    std::vector<std::pair<int64_t, int64_t>> more;  // (utc instant, new offset)
    const int64_t first_year = CivilFromDays(FloorDiv(last, 86400)).year;
    for (int64_t y = first_year; y <= kTableLastYear; ++y) {
      more.emplace_back(RuleLocalSeconds(rule->start, y) - rule->std_offset, rule->dst_offset);
      more.emplace_back(RuleLocalSeconds(rule->end, y) - rule->dst_offset, rule->std_offset);
    }
    std::sort(more.begin(), more.end());
    std::vector<int64_t> begins = begins_, offsets = offsets_;
    for (const auto& [at, offset] : more) {
      if (at <= begins.back() || at >= limit) continue;
      if (offset == offsets.back()) continue;
      begins.push_back(at);
      offsets.push_back(offset);
    }
    begins_ = std::move(begins);
    offsets_ = std::move(offsets);
    // Past the generated range ask the tz library (standard time only).
    table_end_ = limit;
  }

  // Index of the interval containing instant t (the last begin <= t). O(1):
  // a bucket of 2^kBucketShift seconds (~97 days) holds at most a few
  // transitions, so a short forward scan from the bucket's first interval ends it.
  size_t Interval(int64_t t) const {
    const size_t n = begins_.size();
    if (n == 1 || t < begins_[1]) return 0;
    if (t >= begins_[n - 1]) return n - 1;
    size_t j = buckets_[static_cast<uint64_t>(t - begins_[1]) >> kBucketShift];
    while (begins_[j + 1] <= t) ++j;
    return j;
  }

  void BuildBuckets() {
    const size_t n = begins_.size();
    if (n < 3) return;  // Interval() needs no buckets
    const int64_t base = begins_[1];
    const uint64_t count = (static_cast<uint64_t>(begins_[n - 1] - base) >> kBucketShift) + 1;
    buckets_.resize(count);
    size_t j = 1;
    for (uint64_t b = 0; b < count; ++b) {
      const int64_t bucket_start = base + static_cast<int64_t>(b << kBucketShift);
      while (j + 1 < n && begins_[j + 1] <= bucket_start) ++j;
      buckets_[b] = static_cast<uint32_t>(j);
    }
  }
  // After a fall-back by d seconds, the first d seconds of the new interval
  // repeat wall-clock times already seen just before the transition.
  bool Repeated(size_t j, int64_t t) const {
    if (j == 0) return false;
    const int64_t back = offsets_[j - 1] - offsets_[j];
    return back > 0 && t < begins_[j] + back;
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
  int64_t min_offset_ = 0;  // over offsets_
  int64_t max_offset_ = 0;
  // buckets_[b]: the interval containing begins_[1] + b * 2^kBucketShift.
  static constexpr int kBucketShift = 23;
  std::vector<uint32_t> buckets_;
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
