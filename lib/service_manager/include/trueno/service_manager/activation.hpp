// Socket activation as systemd does it (sd_listen_fds(3)): the service manager passes listening
// sockets from fd 3 on and names them in LISTEN_PID and LISTEN_FDS. The protocol is systemd's
// stable interface; it is spoken here instead of through libsystemd, whose library and the ones
// it pulls in (libgcrypt, liblzma, libcap: 2.5 MB) the daemon would otherwise lock in memory.
#pragma once

#include "trueno/result.hpp"

#include <sys/types.h>

namespace trueno::service_manager {

inline constexpr int kListenFdsStart = 3;

// How many sockets were passed to the process `self`, from LISTEN_PID and LISTEN_FDS (null when
// unset). 0 when none were: either variable unset, or LISTEN_PID names another process (they
// were inherited from a parent they were meant for). EINVAL when a variable is set but is not a
// whole number in range.
Result<int> passed_socket_count(const char* listen_pid, const char* listen_fds, pid_t self);

// The sockets passed to this process: their count from the environment (which is then unset,
// so that no child takes them for its own), each marked close-on-exec.
Result<int> take_passed_sockets();

// Whether fd is an AF_UNIX stream socket that listens. An error only when fd is not open.
Result<bool> is_listening_unix_stream(int fd);

} // namespace trueno::service_manager
