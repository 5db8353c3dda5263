// Checks shared by the store tests.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "trueno/page_store.hpp"

namespace trueno::test {

// Page index reads back as expected (kPageSize bytes).
void require_page(PageStore& store, std::uint64_t index, std::span<const std::byte> expected);

// Every one of pages (laid end to end) reads back identical, from page first on.
void require_identical(PageStore& store, const std::vector<std::byte>& pages,
                       std::uint64_t first = 0);

// Every statistic (mm_stat's compr_data_size, huge_pages and orig_data_size, object_stat)
// recounted from what each slot refers to, and compared with what the store reports.
void require_stats_exact(PageStore& store);

} // namespace trueno::test
