// Captures the resident anonymous pages of a running process: the pages of its anonymous private
// mappings that /proc/PID/pagemap reports present in RAM, read from /proc/PID/mem. Needs ptrace
// read access to the process (root, or the same user with kernel.yama.ptrace_scope=0).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "trueno/result.hpp"

namespace trueno::bench {

struct CaptureOptions {
    std::uint64_t max_pages = 0; // stop after this many pages (0 = all)
};

struct CaptureStats {
    std::uint64_t mappings = 0;           // every mapping of the process
    std::uint64_t anonymous_mappings = 0; // the ones to capture from
    std::uint64_t pages_mapped = 0;       // pages of their address ranges looked at
    std::uint64_t pages_present = 0;      // in RAM (pagemap bit 63)
    std::uint64_t pages_swapped = 0;      // in swap (bit 62): not read, reading would swap them in
    std::uint64_t pages_written = 0;
    std::uint64_t zero_pages = 0;     // written pages that are all zero bytes
    std::uint64_t pages_vanished = 0; // present, then unmapped before they could be read
    bool process_exited = false;      // the process exited (or exec'd) mid-capture: partial
    bool limit_reached = false;       // stopped at max_pages
};

// Receives each captured page (4096 bytes), in address order.
using PageWriter = std::function<Status(std::span<const std::byte>)>;

// Errors: ESRCH no such process (or it is a zombie), EACCES/EPERM no access to its memory, the
// writer's errors. A process that exits during the capture is not an error: the stats say so.
Result<CaptureStats> capture_pages(pid_t pid, const CaptureOptions& options,
                                   const PageWriter& write_page);

} // namespace trueno::bench
