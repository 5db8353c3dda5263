// What a process serving swap must do before it serves: lock its memory, leave the OOM
// killer's list, and live in a private mount namespace so exit never waits on unmounting.
#pragma once

#include <string>
#include <vector>

namespace trueno::service {

// Applies every measure it can; returns one warning per measure that failed (the daemon logs
// them and runs on: without root some are impossible, e.g. in tests).
// With start_realtime, the main thread runs at realtime priority from here until
// leave_startup_priority() (a standby starts without: enter_startup_priority says why).
std::vector<std::string> harden_for_swap(bool start_realtime);

// The heap settings harden_for_swap makes (one arena, grown with slack, blocks up to 32 MiB
// from it, given back only past 16 MiB free at its top): memory freed stays in the heap for
// the next allocation. False if glibc refused one. Exposed for tests of what relies on it.
bool keep_heap_in_place();

// Back to SCHED_OTHER for the main thread (the control loop), once its devices are served.
void leave_startup_priority();

// SCHED_FIFO 1 for the main thread again: a standby's, the moment it takes over (it waits at
// normal priority: a realtime task that waits in reclaim while it fills its reserve would
// keep kswapd and the load off its CPU). Returns false if the kernel refused.
bool enter_startup_priority();

} // namespace trueno::service
