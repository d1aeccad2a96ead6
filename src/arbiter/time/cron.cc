// CronExpression: a hand-written parser (so every error can name the field, the
// token and the allowed range) and a fire-time search that walks local
// wall-clock candidates, skipping whole months and days that cannot match, and
// maps each candidate to UTC with the zone's earliest-occurrence rule.
#include "arbiter/time/cron.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "arbiter/common/strings.h"
#include "arbiter/time/local_date_time.h"

namespace arbiter::time {
namespace {

using std::chrono::seconds;

constexpr int64_t kSecondsPerDay = 86400;
// NextAfter looks this many local days ahead (five years including leap days).
constexpr int64_t kSearchDays = 5 * 366 + 1;
// Window in which a fall-back transition is looked for; wider than any
// backward jump of a UTC offset that the tz database records.
constexpr int64_t kFallBackWindow = 26 * 3600;

constexpr std::string_view kFieldList = "(minute hour day-of-month month day-of-week)";

struct FieldSpec {
  const char* name;
  int min;
  int max;       // largest value accepted in the text (7 for day-of-week: Sunday again)
  int star_max;  // end of '*' and of an open "a/n" (6 for day-of-week, so Sunday appears once)
  const std::vector<std::string>* names;  // names[i] is value min + i; null if no names
  const char* name_range;                 // "JAN-DEC", for messages
};

const std::vector<std::string>& MonthNames() {
  static const auto* names = new std::vector<std::string>{"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
  return *names;
}

const std::vector<std::string>& WeekdayNames() {
  static const auto* names =
      new std::vector<std::string>{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};
  return *names;
}

struct Macro {
  const char* name;
  const char* fields;
};

constexpr Macro kMacros[] = {
    {"@hourly", "0 * * * *"},   {"@daily", "0 0 * * *"},   {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},   {"@monthly", "0 0 1 * *"}, {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsDigit);
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Parses digits into an int; values too long to fit are reported as -1, which
// every caller treats as out of range.
int DigitsValue(std::string_view s) {
  if (s.size() > 9) return -1;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::vector<std::string_view> SplitWhitespace(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

Status FieldError(const FieldSpec& f, const std::string& what) {
  return InvalidArgumentError(std::string(f.name) + " field: " + what);
}

std::string RangeText(int lo, int hi) { return std::to_string(lo) + "-" + std::to_string(hi); }

// One number or (in month and day-of-week) a three-letter name.
Result<int> ParseValue(const FieldSpec& f, std::string_view token) {
  if (IsDigit(token[0])) {
    if (!AllDigits(token)) {
      return FieldError(f, "invalid value " + Quote(token) + " (expected a number " +
                               RangeText(f.min, f.max) + ")");
    }
    int v = DigitsValue(token);
    if (v < f.min || v > f.max) {
      return FieldError(f,
                        "value " + std::string(token) + " out of range " + RangeText(f.min, f.max));
    }
    return v;
  }
  if (f.names == nullptr) {
    return FieldError(f, "invalid value " + Quote(token) + " (expected a number " +
                             RangeText(f.min, f.max) + ")");
  }
  const std::string upper = Upper(token);
  const std::vector<std::string>& names = *f.names;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == upper) return f.min + static_cast<int>(i);
  }
  // "Monday" and "January" are common; suggest their three-letter form.
  std::string hint;
  for (const std::string& n : names) {
    if (upper.size() > n.size() && upper.compare(0, n.size(), n) == 0) {
      hint = "; did you mean " + Quote(n) + "?";
      break;
    }
  }
  if (hint.empty()) hint = DidYouMean(upper, names);
  if (hint.empty()) {
    hint = " (expected " + RangeText(f.min, f.max) + " or " + f.name_range + ")";
  }
  return FieldError(f, "unknown name " + Quote(token) + hint);
}

// Parses a step after '/'; `element` is the whole list element, for messages.
Result<int> ParseStep(const FieldSpec& f, std::string_view step, std::string_view element) {
  if (step.empty()) return FieldError(f, "missing step after '/' in " + Quote(element));
  if (step[0] == '-' && AllDigits(step.substr(1))) return FieldError(f, "step must be positive");
  if (!AllDigits(step)) {
    return FieldError(f, "invalid step " + Quote(step) + " in " + Quote(element));
  }
  int v = DigitsValue(step);
  if (v == 0) return FieldError(f, "step must be positive");
  // A step that cannot reach a second value ("*/60" minutes) is almost always
  // an attempt at an interval cron cannot express; say so instead of firing
  // once per hour or day.
  const int max_step = f.star_max - f.min;
  if (v < 0 || v > max_step) {
    return FieldError(f, "step " + std::string(step) + " out of range " + RangeText(1, max_step));
  }
  return v;
}

// Parses one list element ("*", "5", "1-5", "*/15", "1-30/2", "MON-FRI", "5/15")
// and sets its values in `mask` (bit v for value v).
Status ParseElement(const FieldSpec& f, std::string_view element, uint64_t* mask) {
  std::string_view base = element;
  int step = 1;
  bool has_step = false;
  if (size_t slash = element.find('/'); slash != std::string_view::npos) {
    base = element.substr(0, slash);
    if (base.empty()) return FieldError(f, "missing value before '/' in " + Quote(element));
    ARBITER_ASSIGN_OR_RETURN(step, ParseStep(f, element.substr(slash + 1), element));
    has_step = true;
  }
  int lo = 0, hi = 0;
  if (base == "*") {
    lo = f.min;
    hi = f.star_max;
  } else if (size_t dash = base.find('-'); dash == std::string_view::npos) {
    ARBITER_ASSIGN_OR_RETURN(lo, ParseValue(f, base));
    hi = has_step ? std::max(lo, f.star_max) : lo;
  } else {
    std::string_view low = base.substr(0, dash);
    std::string_view high = base.substr(dash + 1);
    if (high.find('-') != std::string_view::npos) {
      return FieldError(f, "invalid range " + Quote(base));
    }
    if (low.empty()) return FieldError(f, "range " + Quote(base) + " is missing its start");
    if (high.empty()) return FieldError(f, "range " + Quote(base) + " is missing its end");
    ARBITER_ASSIGN_OR_RETURN(lo, ParseValue(f, low));
    ARBITER_ASSIGN_OR_RETURN(hi, ParseValue(f, high));
    if (lo > hi) return FieldError(f, "range " + std::string(base) + " is reversed");
  }
  for (int v = lo; v <= hi; v += step) *mask |= uint64_t{1} << v;
  return Status::Ok();
}

Result<uint64_t> ParseField(const FieldSpec& f, std::string_view text) {
  uint64_t mask = 0;
  for (const std::string& element : Split(text, ',')) {
    if (element.empty()) return FieldError(f, "empty list element in " + Quote(text));
    ARBITER_RETURN_IF_ERROR(ParseElement(f, element, &mask));
  }
  return mask;
}

template <size_t N>
std::bitset<N> ToBitset(uint64_t mask) {
  return std::bitset<N>(static_cast<unsigned long long>(mask));
}

Result<std::string_view> ExpandMacro(std::string_view text) {
  size_t end = 0;
  while (end < text.size() && !IsSpace(text[end])) ++end;
  std::string_view word = text.substr(0, end);
  std::string_view rest = Trim(text.substr(end));
  const std::string lower = Lower(word);
  for (const Macro& m : kMacros) {
    if (lower != m.name) continue;
    if (!rest.empty()) {
      return InvalidArgumentError("unexpected text " + Quote(rest) + " after macro " + Quote(word) +
                                  " (macros take no fields)");
    }
    return std::string_view(m.fields);
  }
  if (lower == "@reboot") {
    return InvalidArgumentError(
        "macro '@reboot' is not supported: schedules fire at times, not at startup");
  }
  std::vector<std::string> names;
  for (const Macro& m : kMacros) names.emplace_back(m.name);
  std::string hint = DidYouMean(lower, names);
  if (hint.empty()) hint = " (expected one of " + Join(names, ", ") + ")";
  return InvalidArgumentError("unknown macro " + Quote(word) + hint);
}

// The second UTC instant whose wall-clock time is `local`, given that `first`
// is the first one: found by locating the fall-back transition after `first`.
std::optional<int64_t> SecondOccurrence(int64_t local, int64_t first, const TimeZone& zone) {
  auto offset_at = [&zone](int64_t t) { return zone.OffsetAt(TimePoint(seconds(t))).count(); };
  const int64_t first_offset = local - first;
  int64_t lo = first;
  int64_t hi = first + kFallBackWindow;
  if (offset_at(hi) == first_offset) return std::nullopt;
  // Invariant: offset_at(lo) == first_offset != offset_at(hi).
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (offset_at(mid) == first_offset) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  const int64_t later_offset = offset_at(hi);
  const int64_t second = local - later_offset;
  if (second < hi || offset_at(second) != later_offset) return std::nullopt;
  return second;
}

// How far wall-clock time may step back in the next day: the largest drop of
// the UTC offset below its value at `after`. Sampled hourly, which no real
// transition pair (back and forth within an hour) escapes.
int64_t UpcomingFallBack(int64_t after, const TimeZone& zone) {
  const int64_t now = zone.OffsetAt(TimePoint(seconds(after))).count();
  int64_t lowest = now;
  for (int64_t t = 3600; t <= kFallBackWindow; t += 3600) {
    lowest = std::min<int64_t>(lowest, zone.OffsetAt(TimePoint(seconds(after + t))).count());
  }
  return now - lowest;
}

}  // namespace

Result<CronExpression> CronExpression::Parse(std::string_view text) {
  static const FieldSpec kFields[5] = {
      {"minute", 0, 59, 59, nullptr, ""},
      {"hour", 0, 23, 23, nullptr, ""},
      {"day-of-month", 1, 31, 31, nullptr, ""},
      {"month", 1, 12, 12, &MonthNames(), "JAN-DEC"},
      {"day-of-week", 0, 7, 6, &WeekdayNames(), "SUN-SAT"},
  };
  const std::string_view trimmed = Trim(text);
  if (trimmed.empty()) {
    return InvalidArgumentError("empty cron expression; expected 5 fields " +
                                std::string(kFieldList) + " or a macro such as '@daily'");
  }
  std::string_view fields_text = trimmed;
  if (trimmed[0] == '@') {
    ARBITER_ASSIGN_OR_RETURN(fields_text, ExpandMacro(trimmed));
  }
  const std::vector<std::string_view> fields = SplitWhitespace(fields_text);
  if (fields.size() != 5) {
    std::string message =
        "expected 5 fields " + std::string(kFieldList) + ", got " + std::to_string(fields.size());
    if (fields.size() == 6 || fields.size() == 7) {
      message += "; seconds and year fields are not supported";
    }
    return InvalidArgumentError(std::move(message));
  }
  uint64_t masks[5];
  for (int i = 0; i < 5; ++i) {
    ARBITER_ASSIGN_OR_RETURN(masks[i], ParseField(kFields[i], fields[i]));
  }
  // Day-of-week 7 is Sunday, like 0.
  if (masks[4] & (uint64_t{1} << 7)) masks[4] = (masks[4] | 1) & 0x7f;

  CronExpression cron;
  cron.text_ = std::string(trimmed);
  cron.minutes_ = ToBitset<60>(masks[0]);
  cron.hours_ = ToBitset<24>(masks[1]);
  cron.days_of_month_ = ToBitset<32>(masks[2]);
  cron.months_ = ToBitset<13>(masks[3]);
  cron.days_of_week_ = ToBitset<7>(masks[4]);
  cron.dom_restricted_ = fields[2][0] != '*';
  cron.dow_restricted_ = fields[4][0] != '*';
  return cron;
}

bool CronExpression::DayMatches(int day_of_month, int weekday) const {
  const bool dom = days_of_month_[day_of_month];
  const bool dow = days_of_week_[weekday];
  // Vixie: either suffices only when both fields are restricted. An
  // unrestricted field may still be partial ("*/2"), so it is always tested.
  return dom_restricted_ && dow_restricted_ ? dom || dow : dom && dow;
}

std::optional<int64_t> CronExpression::NextLocalMatch(int64_t from, int64_t end_day) const {
  int64_t day = FloorDiv(from, kSecondsPerDay);
  // Candidates are whole minutes; round a partial minute up.
  int64_t minute_of_day = (from - day * kSecondsPerDay + 59) / 60;
  while (day < end_day) {
    if (minute_of_day >= 24 * 60) {
      ++day;
      minute_of_day = 0;
      continue;
    }
    const CivilDate date = CivilFromDays(day);
    if (!months_[date.month]) {
      // Jump to the first day of the next allowed month (parsing guarantees one).
      int year = date.year;
      int month = date.month;
      do {
        if (++month > 12) {
          month = 1;
          ++year;
        }
      } while (!months_[month]);
      day = DaysFromCivil(year, month, 1);
      minute_of_day = 0;
      continue;
    }
    if (DayMatches(date.day, WeekdayFromDays(day))) {
      const int first_hour = static_cast<int>(minute_of_day / 60);
      for (int h = first_hour; h < 24; ++h) {
        if (!hours_[h]) continue;
        for (int m = h == first_hour ? static_cast<int>(minute_of_day % 60) : 0; m < 60; ++m) {
          if (minutes_[m]) return day * kSecondsPerDay + h * 3600 + m * 60;
        }
      }
    }
    ++day;
    minute_of_day = 0;
  }
  return std::nullopt;
}

std::optional<TimePoint> CronExpression::NextAfter(TimePoint after, const TimeZone& zone) const {
  const int64_t after_s = after.time_since_epoch().count();
  const int64_t local_after = zone.ToLocal(after).time_since_epoch().count();
  const int64_t end_day = FloorDiv(local_after, kSecondsPerDay) + kSearchDays;
  // Fixed hours: a candidate maps to its first occurrence (or the end of its
  // gap), which never decreases as local time increases, so nothing before
  // local_after can fire after `after`. Every hour: second occurrences can, if
  // a fall back is coming, so start that much earlier.
  const bool every_hour = hours_.all();
  int64_t from = local_after;
  if (every_hour) from -= UpcomingFallBack(after_s, zone);

  std::optional<int64_t> best_repeat;  // earliest second occurrence after `after` so far
  while (std::optional<int64_t> local = NextLocalMatch(from, end_day)) {
    const LocalToUtc r = zone.ToUtc(LocalSeconds(seconds(*local)));
    const int64_t first = r.utc.time_since_epoch().count();
    // Every-hour schedules skip wall-clock times inside a gap; fixed ones fire
    // at the end of the gap (r.utc).
    if (!(r.nonexistent && every_hour) && first > after_s) {
      // Later candidates map to instants >= first, so the answer is here.
      return TimePoint(seconds(best_repeat ? std::min(*best_repeat, first) : first));
    }
    if (r.ambiguous && every_hour && !best_repeat) {
      std::optional<int64_t> second = SecondOccurrence(*local, first, zone);
      if (second && *second > after_s) best_repeat = second;
    }
    from = *local + 60;
  }
  if (best_repeat) return TimePoint(seconds(*best_repeat));
  return std::nullopt;
}

}  // namespace arbiter::time
