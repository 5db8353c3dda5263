// AF_UNIX stream sockets for varlink: the service's listening socket and a client's connection.
#pragma once

#include <chrono>
#include <string>

#include "trueno/result.hpp"
#include "trueno/unique_fd.hpp"

namespace trueno::varlink {

// Binds and listens on path: creates missing parent directories (0755), replaces a stale
// socket left by a dead process (but refuses EADDRINUSE while something still answers there),
// and makes the socket 0666 so anyone may connect (the service checks who may change state).
// The fd is non-blocking and close-on-exec.
Result<UniqueFd> listen_unix(const std::string& path, int backlog = 64);

// The socket systemd passed by socket activation (the protocol of sd_listen_fds(3)), if exactly one AF_UNIX
// stream socket was passed; an invalid fd when none was. EINVAL when what was passed is unusable.
Result<UniqueFd> systemd_listen_fd();

// Connects to the service at path within timeout. Errors name the path and the cause:
// ENOENT "no such socket", ECONNREFUSED "nothing listening", EACCES, ETIMEDOUT...
Result<UniqueFd> connect_unix(const std::string& path, std::chrono::milliseconds timeout);

// Who is on the other end of a connected AF_UNIX socket.
struct PeerCredentials {
    int pid = -1;
    unsigned uid = static_cast<unsigned>(-1);
    unsigned gid = static_cast<unsigned>(-1);
};

// SO_PEERCRED; ENOTSOCK etc. on failure.
Result<PeerCredentials> peer_credentials(int fd);

} // namespace trueno::varlink
