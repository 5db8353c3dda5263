// Same-filled page detection: a page whose 8-byte words are all equal is stored as that word.
// Vectorised (AVX-512, AVX2) with runtime dispatch and a portable fallback.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "trueno/page.hpp"

namespace trueno {

// The fill word if every 8-byte word of the page is equal, otherwise nothing.
std::optional<std::uint64_t> same_fill_value(PageView page);

// Writes the fill word over the whole page.
void fill_page(MutablePageView page, std::uint64_t value);

// Which implementation the dispatcher chose on this CPU: "avx512", "avx2" or "scalar".
std::string_view same_fill_implementation();

// The portable implementation, for tests that compare it with the dispatched one.
std::optional<std::uint64_t> same_fill_value_scalar(PageView page);

} // namespace trueno
