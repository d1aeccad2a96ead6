// TimeWindowPartitions: window index <-> start instant <-> key by arithmetic.
// Hourly windows are real hours counted from the first start instant; daily,
// weekly and monthly windows are counted in civil days or months of the local
// calendar and resolved to UTC through the zone. All state is computed in
// Create and never changes, so concurrent reads are safe.
#include "arbiter/definitions/partitions/time_window_partitions.h"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <utility>
#include <vector>

#include "arbiter/common/strings.h"
#include "arbiter/definitions/partitions/static_partitions.h"
#include "arbiter/time/local_date_time.h"

namespace arbiter::definitions {

using time::CivilDate;
using time::CivilFromDays;
using time::DaysFromCivil;
using time::FloorDiv;
using time::KeyFields;
using time::LocalSeconds;

namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;
constexpr const char* kWeekdayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};

int64_t Secs(TimePoint t) { return t.time_since_epoch().count(); }
int64_t Secs(LocalSeconds t) { return t.time_since_epoch().count(); }
TimePoint Utc(int64_t s) { return TimePoint(std::chrono::seconds(s)); }
LocalSeconds Local(int64_t s) { return LocalSeconds(std::chrono::seconds(s)); }

// "+HHMM": the suffix that tells the second of two equal wall-clock hours apart.
char* AppendCompactOffset(int64_t offset, char* p) {
  *p++ = offset < 0 ? '-' : '+';
  offset = std::abs(offset);
  const int64_t hh = offset / 3600 % 100, mm = offset / 60 % 60;
  *p++ = static_cast<char>('0' + hh / 10);
  *p++ = static_cast<char>('0' + hh % 10);
  *p++ = static_cast<char>('0' + mm / 10);
  *p++ = static_cast<char>('0' + mm % 10);
  return p;
}
void AppendCompactOffset(int64_t offset, std::string* out) {
  char buf[5];
  out->append(buf, AppendCompactOffset(offset, buf));
}

// Parses a trailing "+HHMM"/"-HHMM"; nullopt if `s` is not exactly that.
std::optional<int> ParseCompactOffset(std::string_view s) {
  if (s.size() != 5 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  for (size_t i = 1; i < 5; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int hh = (s[1] - '0') * 10 + (s[2] - '0');
  const int mm = (s[3] - '0') * 10 + (s[4] - '0');
  if (hh > 23 || mm > 59) return std::nullopt;
  const int v = hh * 3600 + mm * 60;
  return s[0] == '-' ? -v : v;
}

// "2024-01-01" at midnight, else "2024-01-01T06:30" (seconds only when set).
std::string ShortLocal(LocalSeconds t) {
  std::string s = time::FormatLocalDateTime(t);
  if (s.compare(10, 9, "T00:00:00") == 0) return s.substr(0, 10);
  if (s.compare(16, 3, ":00") == 0) return s.substr(0, 16);
  return s;
}

std::string TwoDigits(int v) {
  return std::string{static_cast<char>('0' + v / 10), static_cast<char>('0' + v % 10)};
}

}  // namespace

std::string_view CadenceName(Cadence c) {
  switch (c) {
    case Cadence::kHourly: return "hourly";
    case Cadence::kDaily: return "daily";
    case Cadence::kWeekly: return "weekly";
    case Cadence::kMonthly: return "monthly";
  }
  return "unknown";
}

std::string DefaultKeyFormat(Cadence c) {
  return c == Cadence::kHourly ? "%Y-%m-%d-%H:%M" : "%Y-%m-%d";
}

Status ValidateKeyFormatForCadence(const time::KeyFormat& format, Cadence c) {
  std::string required = "Ymd";
  if (c == Cadence::kHourly) required = "YmdH";
  if (c == Cadence::kMonthly) required = "Ym";
  std::vector<std::string> missing;
  for (char conv : required) {
    if (!format.has(conv)) missing.push_back(std::string("%") + conv);
  }
  if (missing.empty()) return Status::Ok();
  return InvalidArgumentError("key format " + Quote(format.pattern()) + " cannot identify " +
                              std::string(CadenceName(c)) + " windows: it lacks " +
                              Join(missing, ", "));
}

struct TimeWindowPartitions::Impl {
  TimeWindowSpec spec;
  std::shared_ptr<const time::TimeZone> zone;
  time::KeyFormat format;
  int64_t size = 0;
  // Hourly: UTC second of the first window's start.
  int64_t first_utc = 0;
  // Daily/weekly: local civil day of the first window. Monthly: y*12 + (m-1).
  int64_t first_day = 0;
  int64_t first_month = 0;
  int64_t time_of_day = 0;  // seconds after local midnight a window starts
  int day_of_month = 1;     // monthly
  bool offset_suffix = false;  // hourly and no %z: mark repeated hours

  // Nominal local start of window i (non-hourly).
  int64_t LocalStart(int64_t i) const {
    switch (spec.cadence) {
      case Cadence::kDaily: return (first_day + i) * kDay + time_of_day;
      case Cadence::kWeekly: return (first_day + 7 * i) * kDay + time_of_day;
      case Cadence::kMonthly: {
        const int64_t m = first_month + i;
        const int64_t y = FloorDiv(m, 12);
        return DaysFromCivil(y, static_cast<int>(m - 12 * y + 1), day_of_month) * kDay +
               time_of_day;
      }
      case Cadence::kHourly: break;
    }
    return 0;
  }

  int64_t StartUtc(int64_t i) const {
    if (spec.cadence == Cadence::kHourly) return first_utc + i * kHour;
    // Gaps move to the first instant after them; overlaps take the first.
    return Secs(zone->ToUtc(Local(LocalStart(i))).utc);
  }

  // The fields KeyAt(i) shows, and whether it carries the repeated-hour suffix.
  KeyFields FieldsAt(int64_t i, bool* repeated) const {
    KeyFields f;
    *repeated = false;
    if (spec.cadence == Cadence::kHourly) {
      const int64_t utc = first_utc + i * kHour;
      const time::UtcInfo info = zone->InfoAt(Utc(utc));
      const int64_t offset = info.offset.count();
      const int64_t local = utc + offset;
      const int64_t days = FloorDiv(local, kDay);
      const int64_t sod = local - days * kDay;
      const CivilDate d = CivilFromDays(days);
      f.year = d.year;
      f.month = d.month;
      f.day = d.day;
      f.hour = static_cast<int>(sod / 3600);
      f.minute = static_cast<int>(sod / 60 % 60);
      f.second = static_cast<int>(sod % 60);
      f.offset_seconds = static_cast<int>(offset);
      *repeated = offset_suffix && info.repeated_local;
      return f;
    }
    const int64_t local = LocalStart(i);
    const CivilDate d = CivilFromDays(FloorDiv(local, kDay));
    f.year = d.year;
    f.month = d.month;
    f.day = d.day;
    f.hour = spec.hour_offset;
    f.minute = spec.minute_offset;
    if (format.has('z')) {
      f.offset_seconds = static_cast<int>(zone->OffsetAt(Utc(StartUtc(i))).count());
    }
    return f;
  }

  std::optional<int64_t> IndexContaining(int64_t t) const {
    if (t < StartUtc(0)) return std::nullopt;
    if (spec.cadence == Cadence::kHourly) return (t - first_utc) / kHour;
    // Estimate from the local calendar, then correct for DST resolution.
    const int64_t local = Secs(zone->ToLocal(Utc(t))) - time_of_day;
    const int64_t day = FloorDiv(local, kDay);
    int64_t k = 0;
    switch (spec.cadence) {
      case Cadence::kDaily: k = day - first_day; break;
      case Cadence::kWeekly: k = FloorDiv(day - first_day, 7); break;
      case Cadence::kMonthly: {
        const CivilDate d = CivilFromDays(day - (day_of_month - 1));
        k = int64_t{d.year} * 12 + d.month - 1 - first_month;
        break;
      }
      case Cadence::kHourly: break;
    }
    if (k < 0) k = 0;
    while (k > 0 && StartUtc(k) > t) --k;
    while (StartUtc(k + 1) <= t) ++k;
    return k;
  }
};

TimeWindowPartitions::TimeWindowPartitions(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TimeWindowPartitions::~TimeWindowPartitions() = default;

Result<std::unique_ptr<TimeWindowPartitions>> TimeWindowPartitions::Create(
    const TimeWindowSpec& spec, TimePoint now) {
  auto impl = std::make_unique<Impl>();
  impl->spec = spec;
  const Cadence cadence = spec.cadence;
  const std::string cadence_name(CadenceName(cadence));

  if (spec.minute_offset < 0 || spec.minute_offset > 59) {
    return InvalidArgumentError("minute_offset " + std::to_string(spec.minute_offset) +
                                " out of range 0-59");
  }
  if (cadence == Cadence::kHourly) {
    if (spec.hour_offset != 0) {
      return InvalidArgumentError("hour_offset " + std::to_string(spec.hour_offset) +
                                  " does not apply to hourly windows (only minute_offset does)");
    }
  } else if (spec.hour_offset < 0 || spec.hour_offset > 23) {
    return InvalidArgumentError("hour_offset " + std::to_string(spec.hour_offset) +
                                " out of range 0-23");
  }
  switch (cadence) {
    case Cadence::kHourly:
    case Cadence::kDaily:
      if (spec.day_offset != 0) {
        return InvalidArgumentError("day_offset " + std::to_string(spec.day_offset) +
                                    " does not apply to " + cadence_name +
                                    " windows (only to weekly and monthly)");
      }
      break;
    case Cadence::kWeekly:
      if (spec.day_offset < 0 || spec.day_offset > 6) {
        return InvalidArgumentError("day_offset " + std::to_string(spec.day_offset) +
                                    " out of range 0-6 for weekly windows (0 = Sunday)");
      }
      break;
    case Cadence::kMonthly:
      if (spec.day_offset < 0 || spec.day_offset > 28) {
        return InvalidArgumentError("day_offset " + std::to_string(spec.day_offset) +
                                    " out of range 1-28 for monthly windows");
      }
      break;
  }

  ARBITER_ASSIGN_OR_RETURN(impl->zone, time::LookupTimeZone(spec.timezone));
  if (impl->spec.format.empty()) impl->spec.format = DefaultKeyFormat(cadence);
  ARBITER_ASSIGN_OR_RETURN(impl->format, time::KeyFormat::Compile(impl->spec.format));
  ARBITER_RETURN_IF_ERROR(ValidateKeyFormatForCadence(impl->format, cadence));
  {
    // Keys obey the rules of all partition keys (no '|', no control
    // characters, ...); the literal text decides that, so one sample suffices.
    KeyFields sample;
    sample.offset_seconds = 0;
    std::string key;
    impl->format.Format(sample, &key);
    Status valid = ValidatePartitionKey(key);
    if (!valid.ok()) {
      return InvalidArgumentError("key format " + Quote(impl->spec.format) +
                                  " makes invalid keys: " + valid.message());
    }
  }

  // Keys print %Y with four digits, so windows must stay within years 1-9999.
  const int64_t min_local = DaysFromCivil(1, 1, 1) * kDay;
  const int64_t max_local = DaysFromCivil(9999, 1, 1) * kDay;
  const int64_t start = Secs(spec.start);
  if (start < min_local || start >= max_local) {
    return InvalidArgumentError("start " + time::FormatLocalDateTime(spec.start) +
                                " out of range (years 0001-9998)");
  }
  if (spec.end.has_value()) {
    if (Secs(*spec.end) <= start) {
      return InvalidArgumentError("end " + time::FormatLocalDateTime(*spec.end) +
                                  " is not after start " + time::FormatLocalDateTime(spec.start));
    }
    if (Secs(*spec.end) > max_local) {
      return InvalidArgumentError("end " + time::FormatLocalDateTime(*spec.end) +
                                  " out of range (years 0001-9998)");
    }
  }

  // The first window starts at the first aligned local time >= start.
  impl->time_of_day = spec.hour_offset * kHour + spec.minute_offset * 60;
  const int64_t start_day = FloorDiv(start, kDay);
  switch (cadence) {
    case Cadence::kHourly: {
      int64_t l = FloorDiv(start, kHour) * kHour + spec.minute_offset * 60;
      if (l < start) l += kHour;
      // A wall-clock hour skipped by DST has no window: try the next one.
      time::LocalToUtc r = impl->zone->ToUtc(Local(l));
      for (int i = 0; i < 48 && r.nonexistent; ++i) {
        l += kHour;
        r = impl->zone->ToUtc(Local(l));
      }
      impl->first_utc = Secs(r.utc);
      impl->offset_suffix = !impl->format.has('z');
      break;
    }
    case Cadence::kDaily:
    case Cadence::kWeekly: {
      int64_t d = start_day;
      if (d * kDay + impl->time_of_day < start) ++d;
      if (cadence == Cadence::kWeekly) d += (spec.day_offset - time::WeekdayFromDays(d) + 7) % 7;
      impl->first_day = d;
      break;
    }
    case Cadence::kMonthly: {
      impl->day_of_month = spec.day_offset == 0 ? 1 : spec.day_offset;
      const CivilDate c = CivilFromDays(start_day);
      int64_t m = int64_t{c.year} * 12 + c.month - 1;
      if (DaysFromCivil(c.year, c.month, impl->day_of_month) * kDay + impl->time_of_day < start) {
        ++m;
      }
      impl->first_month = m;
      break;
    }
  }

  // Only windows that have ended by the bound count (as Dagster does for "now").
  // Keys print %Y with four digits, so a far-future "now" is capped at 9999.
  const int64_t bound = std::min(
      spec.end.has_value() ? Secs(impl->zone->ToUtc(*spec.end).utc) : Secs(now),
      Secs(impl->zone->ToUtc(Local(max_local)).utc));
  impl->size = impl->IndexContaining(bound).value_or(0);
  return std::unique_ptr<TimeWindowPartitions>(new TimeWindowPartitions(std::move(impl)));
}

int64_t TimeWindowPartitions::Size() const { return impl_->size; }

std::string TimeWindowPartitions::KeyAt(int64_t index) const {
  assert(index >= 0);
  bool repeated = false;
  const KeyFields f = impl_->FieldsAt(index, &repeated);
  const time::KeyFormat& format = impl_->format;
  if (format.max_size() > 120) {  // unusually long literal text
    std::string key;
    format.Format(f, &key);
    if (repeated) AppendCompactOffset(*f.offset_seconds, &key);
    return key;
  }
  // Format on the stack so the returned string is allocated once, at its size.
  char buf[128];
  char* end = format.FormatTo(f, buf);
  if (repeated) end = AppendCompactOffset(*f.offset_seconds, end);
  return std::string(buf, end);
}

std::optional<int64_t> TimeWindowPartitions::IndexOf(std::string_view key) const {
  const Impl& p = *impl_;
  std::optional<KeyFields> f = p.format.Parse(key);
  std::optional<int> suffix;
  if (!f.has_value()) {
    // Maybe the second occurrence of a repeated hour: "<key>+HHMM".
    if (!p.offset_suffix || key.size() <= 5) return std::nullopt;
    suffix = ParseCompactOffset(key.substr(key.size() - 5));
    if (!suffix.has_value()) return std::nullopt;
    f = p.format.Parse(key.substr(0, key.size() - 5));
    if (!f.has_value()) return std::nullopt;
  }
  int64_t index = 0;
  switch (p.spec.cadence) {
    case Cadence::kHourly: {
      if (!p.format.has('M')) f->minute = p.spec.minute_offset;
      const int64_t local =
          DaysFromCivil(f->year, f->month, f->day) * kDay + f->hour * kHour + f->minute * 60 +
          f->second;
      // Accept only the exact key KeyAt produces. A plain key is the earliest
      // instant showing that wall-clock time, which is never a repeated hour;
      // a suffixed or %z key must name the zone's real offset at that instant.
      int64_t utc = 0;
      if (f->offset_seconds.has_value() || suffix.has_value()) {
        const int64_t offset = suffix.has_value() ? *suffix : *f->offset_seconds;
        utc = local - offset;
        const time::UtcInfo info = p.zone->InfoAt(Utc(utc));
        if (info.offset.count() != offset) return std::nullopt;
        if (suffix.has_value() && !info.repeated_local) return std::nullopt;
      } else {
        const time::LocalToUtc r = p.zone->ToUtc(Local(local));
        if (r.nonexistent) return std::nullopt;
        utc = Secs(r.utc);
      }
      const int64_t diff = utc - p.first_utc;
      if (diff < 0 || diff % kHour != 0) return std::nullopt;
      index = diff / kHour;
      break;
    }
    case Cadence::kDaily:
      index = DaysFromCivil(f->year, f->month, f->day) - p.first_day;
      break;
    case Cadence::kWeekly: {
      const int64_t days = DaysFromCivil(f->year, f->month, f->day) - p.first_day;
      if (days % 7 != 0) return std::nullopt;
      index = days / 7;
      break;
    }
    case Cadence::kMonthly:
      if (p.format.has('d') && f->day != p.day_of_month) return std::nullopt;
      index = int64_t{f->year} * 12 + f->month - 1 - p.first_month;
      break;
  }
  if (index < 0 || index >= p.size) return std::nullopt;
  if (p.spec.cadence != Cadence::kHourly) {
    // The date fixed the index; the other fields must be what KeyAt shows.
    if ((p.format.has('H') && f->hour != p.spec.hour_offset) ||
        (p.format.has('M') && f->minute != p.spec.minute_offset) ||
        (p.format.has('S') && f->second != 0)) {
      return std::nullopt;
    }
    if (p.format.has('z') &&
        *f->offset_seconds != p.zone->OffsetAt(Utc(p.StartUtc(index))).count()) {
      return std::nullopt;
    }
  }
  return index;
}

TimeWindow TimeWindowPartitions::WindowAt(int64_t index) const {
  return TimeWindow{Utc(impl_->StartUtc(index)), Utc(impl_->StartUtc(index + 1))};
}

std::optional<int64_t> TimeWindowPartitions::IndexContaining(TimePoint t) const {
  return impl_->IndexContaining(Secs(t));
}

const TimeWindowSpec& TimeWindowPartitions::spec() const { return impl_->spec; }
const time::TimeZone& TimeWindowPartitions::zone() const { return *impl_->zone; }

std::string TimeWindowPartitions::Describe() const {
  const Impl& p = *impl_;
  const TimeWindowSpec& s = p.spec;
  std::string out(CadenceName(s.cadence));
  if (s.cadence == Cadence::kWeekly) out += std::string(" on ") + kWeekdayNames[s.day_offset];
  if (s.cadence == Cadence::kMonthly) out += " on day " + std::to_string(p.day_of_month);
  if (s.cadence == Cadence::kHourly) {
    if (s.minute_offset != 0) out += " at minute " + std::to_string(s.minute_offset);
  } else if (p.time_of_day != 0) {
    out += " at " + TwoDigits(s.hour_offset) + ":" + TwoDigits(s.minute_offset);
  }
  out += " from " + ShortLocal(s.start);
  if (s.end.has_value()) out += " to " + ShortLocal(*s.end);
  out += " in " + p.zone->name() + ", " + std::to_string(p.size) + " partition" +
         (p.size == 1 ? "" : "s");
  if (!s.end.has_value()) out += " so far";
  if (p.size > 0) {
    out += " (" + KeyAt(0);
    if (p.size > 1) out += (p.size > 2 ? " ... " : ", ") + KeyAt(p.size - 1);
    out += ")";
  }
  return out;
}

}  // namespace arbiter::definitions
