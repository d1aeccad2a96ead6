// libFuzzer target: what the cost engine reads from users and platforms must never crash —
// a simulate trace (JSON Lines), a price catalog (the shipped one or a private list) and a
// usage record. The first byte picks the parser; the rest is its input.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "arbiter/cost/catalog.h"
#include "arbiter/cost/simulator.h"
#include "arbiter/runs/usage.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      std::istringstream in(text);
      (void)arbiter::cost::ParseTrace(in, "fuzz.jsonl");
      break;
    }
    case 1: {
      nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!doc.is_discarded()) (void)arbiter::cost::PriceCatalog::FromJson(doc, "fuzz");
      break;
    }
    default: {
      nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!doc.is_discarded()) (void)arbiter::runs::UsageFromJson(doc);
      break;
    }
  }
  return 0;
}
