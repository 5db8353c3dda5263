// What a process serving swap must do before it serves: lock its memory, leave the OOM
// killer's list, and live in a private mount namespace so exit never waits on unmounting.
#pragma once

#include <string>
#include <vector>

namespace trueno::service {

// Applies every measure it can; returns one warning per measure that failed (the daemon logs
// them and runs on: without root some are impossible, e.g. in tests).
// The main thread runs at realtime priority from here until leave_startup_priority().
std::vector<std::string> harden_for_swap();

// Back to SCHED_OTHER for the main thread (the control loop), once its devices are served.
void leave_startup_priority();

} // namespace trueno::service
