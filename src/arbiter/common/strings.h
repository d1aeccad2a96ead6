// Small string helpers shared by modules: splitting, joining, and the
// "did you mean" suggestion used in error messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace arbiter {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Trim(std::string_view s);

// Levenshtein distance (insert, delete, substitute; plus adjacent transposition).
int EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a likely typo
// (distance <= max(1, len/3)). Ties go to the earlier candidate.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

// "; did you mean 'x'?" or "" — appended to unknown-name messages.
std::string DidYouMean(std::string_view word, const std::vector<std::string>& candidates);

// Quotes a string for messages: 'abc'. Control characters are escaped.
std::string Quote(std::string_view s);

}  // namespace arbiter
