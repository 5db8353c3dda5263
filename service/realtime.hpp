// The threads a swap write waits on run at the lowest realtime priority (SCHED_FIFO 1). Two
// things follow. They run as soon as a request arrives, ahead of the processes whose pages they
// store. And, what matters under memory pressure: the kernel lets a realtime task's page
// faults take memory down to half of the min watermark (ALLOC_MIN_RESERVE in the page
// allocator), memory no ordinary process can take. The refill thread, which gets the store's
// memory from the kernel while the kernel waits for the store to take its pages, then finds
// some when everyone else must reclaim first. (Kernel zram allocates inside reclaim itself,
// with PF_MEMALLOC, where all of the reserve is open to it.)
#pragma once

#include <string_view>

namespace trueno::service {

// Makes the calling thread SCHED_FIFO priority 1; logs a warning naming `thread` and returns
// false when the kernel refuses (no CAP_SYS_NICE, or an RT runtime limit of 0).
bool become_realtime(std::string_view thread);

} // namespace trueno::service
