// KeyFormat: compiles a strftime-like pattern into pieces once; Format and
// Parse then walk the pieces with fixed-width digit loops (no strftime,
// strptime or iostreams: those are slow and depend on the locale).
#include "arbiter/time/key_format.h"

#include <cstdlib>

#include "arbiter/common/strings.h"
#include "arbiter/time/local_date_time.h"

namespace arbiter::time {
namespace {

// Most characters one conversion can print (an out-of-range int field: sign
// and ten digits; %z: sign, hours, minutes).
constexpr size_t kMaxConversionSize = 12;

// Any value/width: sign, digits, zero padding.
[[gnu::noinline]] void PutDigitsSlow(int64_t v, int width, char** p) {
  if (v < 0) {
    *(*p)++ = '-';
    v = -v;
  }
  char buf[24];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  for (int i = n; i < width; ++i) *(*p)++ = '0';
  while (n > 0) *(*p)++ = buf[--n];
}

// Writes v zero-padded to `width` digits at *p and advances it. Months, days,
// times and four-digit years take the inlined fast paths.
inline void PutDigits(int64_t v, int width, char** p) {
  char* q = *p;
  if (width == 2 && v >= 0 && v < 100) {
    q[0] = static_cast<char>('0' + v / 10);
    q[1] = static_cast<char>('0' + v % 10);
    *p = q + 2;
  } else if (width == 4 && v >= 0 && v < 10000) {
    const int64_t hi = v / 100, lo = v % 100;
    q[0] = static_cast<char>('0' + hi / 10);
    q[1] = static_cast<char>('0' + hi % 10);
    q[2] = static_cast<char>('0' + lo / 10);
    q[3] = static_cast<char>('0' + lo % 10);
    *p = q + 4;
  } else {
    PutDigitsSlow(v, width, p);
  }
}

// Reads exactly `n` digits from key[*pos]; -1 on a non-digit or end of input.
int ReadDigits(std::string_view key, size_t* pos, size_t n) {
  if (key.size() - *pos < n) return -1;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = key[*pos + i];
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  *pos += n;
  return v;
}

}  // namespace

Result<KeyFormat> KeyFormat::Compile(std::string_view pattern) {
  if (pattern.empty()) return InvalidArgumentError("key format is empty");
  KeyFormat f;
  f.pattern_ = std::string(pattern);
  auto add_literal = [&f](char c) {
    if (f.pieces_.empty() || f.pieces_.back().conversion != 0) f.pieces_.push_back(Piece{});
    f.pieces_.back().literal.push_back(c);
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') {
      add_literal(pattern[i]);
      continue;
    }
    if (i + 1 == pattern.size()) {
      return InvalidArgumentError("key format " + Quote(pattern) +
                                  " ends with a lone '%'; write %% for a literal '%'");
    }
    const char c = pattern[++i];
    if (c == '%') {
      add_literal('%');
      continue;
    }
    const uint32_t bit = Bit(c);
    if (bit == 0) {
      return InvalidArgumentError("key format " + Quote(pattern) + ": unsupported conversion " +
                                  Quote(std::string("%") + c) + " at offset " +
                                  std::to_string(i - 1) +
                                  "; supported: %Y %m %d %H %M %S %z %%");
    }
    if (f.present_ & bit) {
      return InvalidArgumentError("key format " + Quote(pattern) + ": conversion %" +
                                  std::string(1, c) + " appears more than once");
    }
    f.present_ |= bit;
    f.pieces_.push_back(Piece{c, {}});
  }
  for (const Piece& p : f.pieces_) {
    f.max_size_ += p.conversion == 0 ? p.literal.size() : kMaxConversionSize;
  }
  return f;
}

void KeyFormat::Format(const KeyFields& fields, std::string* out) const {
  // Write into spare room and trim once: one size change instead of one per char.
  const size_t old_size = out->size();
  out->resize(old_size + max_size_);
  char* const end = FormatTo(fields, out->data() + old_size);
  out->resize(static_cast<size_t>(end - out->data()));
}

char* KeyFormat::FormatTo(const KeyFields& fields, char* p) const {
  for (const Piece& piece : pieces_) {
    switch (piece.conversion) {
      case 0:
        for (char c : piece.literal) *p++ = c;
        break;
      case 'Y': PutDigits(fields.year, 4, &p); break;
      case 'm': PutDigits(fields.month, 2, &p); break;
      case 'd': PutDigits(fields.day, 2, &p); break;
      case 'H': PutDigits(fields.hour, 2, &p); break;
      case 'M': PutDigits(fields.minute, 2, &p); break;
      case 'S': PutDigits(fields.second, 2, &p); break;
      case 'z': {
        int64_t s = fields.offset_seconds.value_or(0);
        *p++ = s < 0 ? '-' : '+';
        s = s < 0 ? -s : s;
        PutDigits(s / 3600 % 100, 2, &p);
        PutDigits(s / 60 % 60, 2, &p);  // sub-minute offsets cannot be shown
        break;
      }
      default: break;
    }
  }
  return p;
}

std::optional<KeyFields> KeyFormat::Parse(std::string_view key) const {
  KeyFields f;
  size_t pos = 0;
  for (const Piece& p : pieces_) {
    int v = 0;
    switch (p.conversion) {
      case 0:
        if (key.substr(pos, p.literal.size()) != p.literal) return std::nullopt;
        pos += p.literal.size();
        continue;
      case 'Y':
        if ((v = ReadDigits(key, &pos, 4)) < 0) return std::nullopt;
        f.year = v;
        continue;
      case 'm':
        if ((v = ReadDigits(key, &pos, 2)) < 1 || v > 12) return std::nullopt;
        f.month = v;
        continue;
      case 'd':
        if ((v = ReadDigits(key, &pos, 2)) < 1 || v > 31) return std::nullopt;
        f.day = v;
        continue;
      case 'H':
        if ((v = ReadDigits(key, &pos, 2)) < 0 || v > 23) return std::nullopt;
        f.hour = v;
        continue;
      case 'M':
        if ((v = ReadDigits(key, &pos, 2)) < 0 || v > 59) return std::nullopt;
        f.minute = v;
        continue;
      case 'S':
        if ((v = ReadDigits(key, &pos, 2)) < 0 || v > 59) return std::nullopt;
        f.second = v;
        continue;
      case 'z': {
        if (pos >= key.size() || (key[pos] != '+' && key[pos] != '-')) return std::nullopt;
        const bool negative = key[pos++] == '-';
        const int hh = ReadDigits(key, &pos, 2);
        const int mm = ReadDigits(key, &pos, 2);
        if (hh < 0 || hh > 23 || mm < 0 || mm > 59) return std::nullopt;
        const int s = hh * 3600 + mm * 60;
        f.offset_seconds = negative ? -s : s;
        continue;
      }
      default:
        return std::nullopt;
    }
  }
  if (pos != key.size()) return std::nullopt;
  // The day must exist in its month; without a year, February allows 29.
  if ((present_ & Bit('d')) && (present_ & Bit('m'))) {
    const int64_t year = (present_ & Bit('Y')) ? f.year : 2000;
    if (f.day > DaysInMonth(year, f.month)) return std::nullopt;
  }
  return f;
}

}  // namespace arbiter::time
