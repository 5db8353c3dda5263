// Threads that serve swap I/O, or get memory for it, must not recurse into swap I/O when they
// fault: PR_SET_IO_FLUSHER makes their reclaim skip I/O (GFP_NOIO) and throttle only on their
// own writeback.
#pragma once

#include <string_view>

namespace trueno::service {

// Marks the calling thread an I/O flusher; logs a warning naming `thread` and returns false
// when the kernel refuses (before 5.6, or without CAP_SYS_RESOURCE).
bool become_io_flusher(std::string_view thread);

} // namespace trueno::service
