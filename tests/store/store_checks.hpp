// Checks shared by the store tests.
#pragma once

#include "trueno/page_store.hpp"

namespace trueno::test {

// Every statistic (mm_stat's compr_data_size, huge_pages and orig_data_size, object_stat)
// recounted from what each slot refers to, and compared with what the store reports.
void require_stats_exact(PageStore& store);

} // namespace trueno::test
