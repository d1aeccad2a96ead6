// Fuzzes the small text formats users write inside arbiter.yaml. The first
// byte picks the parser; the rest is its input. Parsers must return a value or
// an error, never crash; values that parse must survive a format/parse round trip.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "arbiter/common/duration.h"
#include "arbiter/definitions/asset_key.h"
#include "arbiter/definitions/secret_ref.h"
#include "arbiter/time/cron.h"
#include "arbiter/time/key_format.h"
#include "arbiter/time/local_date_time.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0: {
      auto cron = arbiter::time::CronExpression::Parse(text);
      if (cron.ok()) {
        auto zone = arbiter::time::LookupTimeZone("Europe/Vienna");
        if (!zone.ok()) std::abort();
        (void)cron->NextAfter(arbiter::TimePoint(std::chrono::seconds(1711846800)), **zone);
      }
      break;
    }
    case 1: {
      auto d = arbiter::ParseDuration(text);
      if (d.ok() && *arbiter::ParseDuration(arbiter::FormatDuration(*d)) != *d) std::abort();
      break;
    }
    case 2: {
      auto t = arbiter::time::ParseLocalDateTime(text);
      if (t.ok() && *arbiter::time::ParseLocalDateTime(arbiter::time::FormatLocalDateTime(*t)) != *t)
        std::abort();
      break;
    }
    case 3: {
      // Pattern, then a key to parse, separated by the first newline.
      size_t nl = text.find('\n');
      auto format = arbiter::time::KeyFormat::Compile(text.substr(0, nl));
      if (format.ok() && nl != std::string_view::npos) (void)format->Parse(text.substr(nl + 1));
      break;
    }
    case 4: {
      auto c = arbiter::definitions::ConfigString::Parse(text);
      if (c.ok() && c->text() != text) std::abort();
      break;
    }
    default: {
      auto k = arbiter::definitions::AssetKey::Parse(text);
      if (k.ok() && k->str() != text) std::abort();
      break;
    }
  }
  return 0;
}
