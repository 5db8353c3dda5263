#include "reserve_sizing.hpp"

#include <unistd.h>

#include <algorithm>

namespace trueno::store {

std::uint64_t reserve_budget_bytes(std::uint64_t physical_memory, std::uint64_t mem_limit)
{
    constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;
    std::uint64_t budget = physical_memory == 0 ? 16 * kMiB : std::clamp(physical_memory / 16, 4 * kMiB, 16 * kMiB);
    if (mem_limit != 0) budget = std::min(budget, mem_limit / 16);
    return std::max(budget, kMiB);
}

std::uint64_t physical_memory_bytes()
{
    const long pages = sysconf(_SC_PHYS_PAGES);
    const long page_size = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0) return 0;
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}

} // namespace trueno::store
