// The --disksize argument: "auto" (just the corpus) or a size with an optional K/M/G/T suffix.
#pragma once

#include <cstdint>
#include <string_view>

#include "trueno/result.hpp"

namespace trueno::bench {

// Returns bytes, or 0 for "auto". Suffixes are powers of 1024, as the kernel's memparse.
Result<std::uint64_t> parse_disksize(std::string_view text);

} // namespace trueno::bench
