// Under systemd, PID 1 restarts trueno-zramd when it dies and journald takes its log while it
// takes over its devices. Neither may then wait for one of its own pages in swap on a
// trueno-zram device that no daemon serves: the machine would hang. The package's drop-ins
// give both MemorySwapMax=0 (units/); this checks the cgroup files (v2) at start and sets
// what is missing, e.g. before the first daemon-reload after installing.
#pragma once

#include <string>
#include <vector>

namespace trueno::service {

// One line per cgroup that was changed or could not be checked (for the log); nothing when
// all is well. cgroup_root is the cgroup2 mount (a folder of fake files in tests).
std::vector<std::string> keep_supervisors_out_of_swap(const std::string& cgroup_root = "/sys/fs/cgroup");

} // namespace trueno::service
