// The number and time values of the policy attributes (recompress_policy, writeback_policy):
// "key=value" words, read alike by both.
#pragma once

#include <cstdint>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::store {

// A whole decimal number; EINVAL naming key=text otherwise.
Result<std::uint64_t> parse_count(std::string_view key, std::string_view text);
// Seconds, bare or with s, m (or min), h, d: "3600", "90s", "30min", "1h", "2d"; at most ten
// years. EINVAL naming key=text otherwise.
Result<std::uint64_t> parse_seconds(std::string_view key, std::string_view text);

} // namespace trueno::store
