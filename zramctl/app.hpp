// trueno-zramctl as a callable: parses argv, talks to the daemon, writes to the given streams
// and returns the exit status, so tests run it in-process with a chosen socket and mount table.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon_client.hpp"
#include "mounts.hpp"
#include "trueno/result.hpp"

namespace trueno::zramctl {

struct Environment {
    std::optional<std::string> socket_env;                                     // $TRUENO_ZRAM_SOCKET
    std::function<std::unique_ptr<DaemonClient>(const std::string&)> connect;  // by socket path
    std::function<MountTable()> mounts;                                        // swap and mounts
    std::function<bool(int)> ublk_id_taken;  // a ublk device with this id exists outside the daemon
    std::function<std::optional<bool>()> zswap_enabled; // the kernel's zswap; nullopt: unknown
    std::function<Result<std::string>()> http_request_head; // --http: the request read on stdin
};

// The real system: the environment variable, the varlink client, /proc and /dev.
Environment system_environment();

int run(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err, const Environment& env);

} // namespace trueno::zramctl
