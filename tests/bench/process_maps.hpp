// The memory map of a running process, as /proc/PID/maps lists it, and which of its mappings hold
// anonymous private memory: the pages a swap device (kernel zram or ours) would receive.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::bench {

struct Mapping {
    std::uint64_t start = 0;
    std::uint64_t end = 0; // exclusive
    std::string perms;     // "rw-p": read, write, execute, private (p) or shared (s)
    std::uint64_t inode = 0;
    std::string name; // path, [heap], [stack], [anon:NAME], [vdso]... or empty
};

// Parses one line of /proc/PID/maps.
Result<Mapping> parse_maps_line(std::string_view line);

// Heap, stacks and anonymous mmaps that are private and readable. Not file-backed mappings
// (their pages go back to the file, not to swap), not shared memory, not the kernel's
// [vvar]/[vdso]/[vsyscall].
bool is_anonymous_private(const Mapping& mapping);

// Every mapping of the process. ENOENT: no such process; EACCES/EPERM: no ptrace read access.
Result<std::vector<Mapping>> read_process_maps(pid_t pid);

} // namespace trueno::bench
