// Names the calling thread as ps -L, top, /proc/PID/task/TID/comm and kernel stack dumps show
// it, so an operator (or a test) can tell the refiller stuck in reclaim from a queue thread.
#pragma once

#include <string_view>

namespace trueno {

// At most 15 characters are kept (the kernel's limit); a longer name is cut. Never fails: a
// thread without a name works the same.
void name_this_thread(std::string_view name) noexcept;

} // namespace trueno
