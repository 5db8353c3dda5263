// Size text as util-linux zramctl reads and prints it: strtosize() suffixes for --size and the
// one-letter human form ("4G", "11.5M", "74B") for the size columns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::zramctl {

// "1G" = 2^30, "1GiB" = 2^30, "1GB" = 10^9, bare number = bytes; "0.5M" fractions; suffix
// letters KMGTPEZY (lowercase kmgtpezy accepted, as util-linux does). Errors: EINVAL for text
// that is not a size, ERANGE for a size that does not fit in 64 bits.
Result<std::uint64_t> parse_size(std::string_view text);

// The strict unsigned number util-linux wants for --streams: decimal/0x/0 prefixes, nothing
// after it; EINVAL or ERANGE (negative numbers are ERANGE, as ul_strtou64 says).
Result<std::uint64_t> parse_unsigned(std::string_view text);

// Power-of-1024 one-letter form with at most one decimal, rounded half up: 0 -> "0B",
// 1536 -> "1.5K", 4294967296 -> "4G".
std::string human_size(std::uint64_t bytes);

} // namespace trueno::zramctl
