// How much memory a never-fault store may keep populated ahead of its writes (the sum of its
// size classes' windows). A swap device needs enough to take a burst of writes while its refill
// thread waits for memory, and no more: on the small machines where compressed swap matters
// most, every MB held in reserve is a MB the kernel cannot give to processes.
#pragma once

#include <cstdint>

namespace trueno::store {

// 1/16 of physical memory, between 4 and 16 MiB (16 MiB from 256 MB up); with a memory limit,
// at most 1/16 of it (a reserve beyond the limit holds pages no write may use). Never below
// 1 MiB. Measured at the kernel's default vm settings (tests/vm pressure, 256 MB guest): a
// 4 MiB budget failed 37 swap writes and took 2.5 times as long as kernel zram; 16 MiB failed
// none and took as long. What the reserve costs an idle device is its windows' base, not the
// budget: the windows shrink back after a burst.
std::uint64_t reserve_budget_bytes(std::uint64_t physical_memory, std::uint64_t mem_limit);

// The machine's physical memory (sysconf), or 0 if unknown.
std::uint64_t physical_memory_bytes();

} // namespace trueno::store
