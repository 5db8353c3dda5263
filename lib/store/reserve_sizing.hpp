// How much memory a never-fault store may keep populated ahead of its writes (the sum of its
// size classes' windows). A swap device needs enough to take a burst of writes while its refill
// thread waits for memory, and no more: on the small machines where compressed swap matters
// most, every MB held in reserve is a MB the kernel cannot give to processes.
#pragma once

#include <cstdint>

namespace trueno::store {

// 1/64 of physical memory, between 2 and 16 MiB (4 MiB on a 256 MB machine, 16 MiB from
// 1 GiB up); with a memory limit, at most 1/16 of it (a reserve beyond the limit holds pages
// no write may use). Never below 1 MiB.
std::uint64_t reserve_budget_bytes(std::uint64_t physical_memory, std::uint64_t mem_limit);

// The machine's physical memory (sysconf), or 0 if unknown.
std::uint64_t physical_memory_bytes();

} // namespace trueno::store
