#include "arbiter/definitions/asset_key.h"

#include "arbiter/common/strings.h"

namespace arbiter::definitions {

Result<AssetKey> AssetKey::Parse(std::string_view text) {
  if (text.empty()) return InvalidArgumentError("asset key is empty");
  for (const std::string& part : Split(text, '/')) {
    if (part.empty()) {
      return InvalidArgumentError("asset key " + Quote(text) +
                                  " has an empty part (keys look like 'commoncrawl/edges')");
    }
    for (unsigned char c : part) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-' || c == '.';
      if (!ok) {
        return InvalidArgumentError("asset key " + Quote(text) + " contains " +
                                    Quote(std::string(1, static_cast<char>(c))) +
                                    "; parts may use letters, digits, '_', '-' and '.'");
      }
    }
  }
  return AssetKey(std::string(text));
}

std::vector<std::string> AssetKey::parts() const { return Split(text_, '/'); }

}  // namespace arbiter::definitions
