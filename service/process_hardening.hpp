// What a process serving swap must do before it serves: lock its memory, leave the OOM
// killer's list, and live in a private mount namespace so exit never waits on unmounting.
#pragma once

#include <string>
#include <vector>

namespace trueno::service {

// Applies every measure it can; returns one warning per measure that failed (the daemon logs
// them and runs on: without root some are impossible, e.g. in tests).
std::vector<std::string> harden_for_swap();

} // namespace trueno::service
