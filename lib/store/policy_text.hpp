// The number and time values of the policy attributes (recompress_policy, writeback_policy):
// "key=value" words, read alike by both.
#pragma once

#include "trueno/result.hpp"

#include <cstdint>
#include <string_view>
#include <vector>

namespace trueno::store {

// The white-space separated words of a policy's text.
std::vector<std::string_view> split_words(std::string_view text);

// A whole decimal number; EINVAL naming key=text otherwise.
Result<std::uint64_t> parse_count(std::string_view key, std::string_view text);
// Seconds, bare or with s, m (or min), h, d: "3600", "90s", "30min", "1h", "2d"; at most ten
// years. EINVAL naming key=text otherwise.
Result<std::uint64_t> parse_seconds(std::string_view key, std::string_view text);

} // namespace trueno::store
