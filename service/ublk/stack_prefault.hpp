// Threads that serve swap make their stacks resident before they serve: under
// mlockall(MCL_FUTURE | MCL_ONFAULT) a thread stack is populated only as it is touched, and a
// first touch deeper than before, in a thread that may not reclaim with I/O, faults and can
// stall at the min watermark. Touched once, the pages stay resident and locked.
#pragma once

#include <cstddef>

namespace trueno::ublk {

// Well over what the request path uses (a codec's state on the stack, a few KiB of frames).
inline constexpr std::size_t kStackPrefaultBytes = 256 * 1024;

// Writes to every page of the next kStackPrefaultBytes of the calling thread's stack.
void prefault_stack();

} // namespace trueno::ublk
