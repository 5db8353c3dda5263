// Internal: the same-fill implementations the dispatcher chooses between, one file each.
#pragma once

#include <cstdint>
#include <optional>

#include "trueno/page.hpp"

namespace trueno::same_fill_detail {

std::optional<std::uint64_t> detect_scalar(PageView page);
void fill_scalar(MutablePageView page, std::uint64_t value);

std::optional<std::uint64_t> detect_avx2(PageView page);
void fill_avx2(MutablePageView page, std::uint64_t value);

std::optional<std::uint64_t> detect_avx512(PageView page);
void fill_avx512(MutablePageView page, std::uint64_t value);

// The first 8-byte word, read without alignment or aliasing assumptions.
std::uint64_t first_word(PageView page);

} // namespace trueno::same_fill_detail
