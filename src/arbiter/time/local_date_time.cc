// Parsing and formatting of civil date-times, hand-written so that the result
// does not depend on the C locale and errors can say exactly what is wrong.
#include "arbiter/time/local_date_time.h"

#include <cstdint>

#include "arbiter/common/strings.h"

namespace arbiter::time {
namespace {

constexpr std::string_view kAcceptedForms =
    "accepted forms: YYYY-MM-DD, YYYY-MM-DDTHH:MM, YYYY-MM-DD HH:MM, YYYY-MM-DDTHH:MM:SS";

constexpr const char* kMonthNames[] = {"January", "February", "March",     "April",
                                       "May",     "June",     "July",      "August",
                                       "September", "October", "November", "December"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at text[pos]; -1 if any is not a digit.
int Digits(std::string_view text, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!IsDigit(c)) return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

void AppendPadded(int64_t v, int width, std::string* out) {
  if (v < 0) {
    out->push_back('-');
    v = -v;
  }
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(buf[--n]);
}

Status ShapeError(std::string_view text) {
  return InvalidArgumentError("invalid date-time " + Quote(text) + "; " +
                              std::string(kAcceptedForms));
}

}  // namespace

CivilDateTime ToCivil(LocalSeconds t) {
  const int64_t s = t.time_since_epoch().count();
  const int64_t days = FloorDiv(s, 86400);
  const int64_t sod = s - days * 86400;
  CivilDateTime c;
  c.date = CivilFromDays(days);
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod / 60 % 60);
  c.second = static_cast<int>(sod % 60);
  return c;
}

LocalSeconds FromCivil(const CivilDateTime& c) {
  const int64_t days = DaysFromCivil(c.date.year, c.date.month, c.date.day);
  return LocalSeconds(std::chrono::seconds(days * 86400 + c.hour * 3600 + c.minute * 60 +
                                           c.second));
}

Result<LocalSeconds> ParseLocalDateTime(std::string_view text) {
  // Shapes by length: 10 = date, 16 = date + HH:MM, 19 = date + HH:MM:SS.
  const size_t n = text.size();
  if (n != 10 && n != 16 && n != 19) return ShapeError(text);
  if (text[4] != '-' || text[7] != '-') return ShapeError(text);
  CivilDateTime c;
  c.date.year = Digits(text, 0, 4);
  c.date.month = Digits(text, 5, 2);
  c.date.day = Digits(text, 8, 2);
  if (c.date.year < 0 || c.date.month < 0 || c.date.day < 0) return ShapeError(text);
  if (n > 10) {
    if ((text[10] != 'T' && text[10] != ' ') || text[13] != ':') return ShapeError(text);
    c.hour = Digits(text, 11, 2);
    c.minute = Digits(text, 14, 2);
    if (c.hour < 0 || c.minute < 0) return ShapeError(text);
    if (n == 19) {
      if (text[16] != ':') return ShapeError(text);
      c.second = Digits(text, 17, 2);
      if (c.second < 0) return ShapeError(text);
    }
  }
  const std::string prefix = "invalid date-time " + Quote(text) + ": ";
  if (c.date.month < 1 || c.date.month > 12) {
    return InvalidArgumentError(prefix + "month " + std::to_string(c.date.month) +
                                " out of range 1-12");
  }
  const int dim = DaysInMonth(c.date.year, c.date.month);
  if (c.date.day < 1 || c.date.day > dim) {
    std::string msg = prefix + "day " + std::to_string(c.date.day) + " out of range 1-" +
                      std::to_string(dim) + " for " + kMonthNames[c.date.month - 1] + " " +
                      std::to_string(c.date.year);
    if (c.date.month == 2 && c.date.day == 29) msg += " (not a leap year)";
    return InvalidArgumentError(msg);
  }
  if (c.hour > 23) {
    return InvalidArgumentError(prefix + "hour " + std::to_string(c.hour) + " out of range 0-23");
  }
  if (c.minute > 59) {
    return InvalidArgumentError(prefix + "minute " + std::to_string(c.minute) +
                                " out of range 0-59");
  }
  if (c.second > 59) {
    return InvalidArgumentError(prefix + "second " + std::to_string(c.second) +
                                " out of range 0-59");
  }
  return FromCivil(c);
}

std::string FormatLocalDateTime(LocalSeconds t) {
  const CivilDateTime c = ToCivil(t);
  std::string out;
  out.reserve(19);
  AppendPadded(c.date.year, 4, &out);
  out.push_back('-');
  AppendPadded(c.date.month, 2, &out);
  out.push_back('-');
  AppendPadded(c.date.day, 2, &out);
  out.push_back('T');
  AppendPadded(c.hour, 2, &out);
  out.push_back(':');
  AppendPadded(c.minute, 2, &out);
  out.push_back(':');
  AppendPadded(c.second, 2, &out);
  return out;
}

std::string FormatUtcOffset(std::chrono::seconds offset) {
  int64_t s = offset.count();
  std::string out;
  out.push_back(s < 0 ? '-' : '+');
  if (s < 0) s = -s;
  AppendPadded(s / 3600, 2, &out);
  out.push_back(':');
  AppendPadded(s / 60 % 60, 2, &out);
  // Only historical local mean times have second offsets (Vienna 1893: +01:05:21).
  if (s % 60 != 0) {
    out.push_back(':');
    AppendPadded(s % 60, 2, &out);
  }
  return out;
}

std::string FormatIso8601(TimePoint utc, const TimeZone& zone) {
  const std::chrono::seconds offset = zone.OffsetAt(utc);
  return FormatLocalDateTime(LocalSeconds(utc.time_since_epoch() + offset)) +
         FormatUtcOffset(offset);
}

}  // namespace arbiter::time
