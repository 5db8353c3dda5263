// An AF_UNIX socket address from a path ("/run/...") or, where allowed, an abstract name ("@x",
// systemd's notation), with the length to pass to bind, connect or sendto.
#pragma once

#include "trueno/result.hpp"

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>

namespace trueno {

struct UnixAddress {
    sockaddr_un address{};
    socklen_t length = 0;

    const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&address); }
};

// EINVAL for an empty name, a relative path or (unless allowed) an abstract name;
// ENAMETOOLONG for one that does not fit sun_path (a path needs room for its terminator).
inline Result<UnixAddress> unix_address(std::string_view name, bool allow_abstract = false) {
    UnixAddress result;
    result.address.sun_family = AF_UNIX;
    const bool abstract = !name.empty() && name[0] == '@';
    if (name.empty() || (name[0] != '/' && !(abstract && allow_abstract)))
        return make_error(EINVAL, "\"" + std::string(name) + "\" is not an absolute socket path" +
                                      (allow_abstract ? " or an abstract name (@name)" : ""));
    const std::size_t room = sizeof(result.address.sun_path) - (abstract ? 0 : 1);
    if (name.size() > room)
        return make_error(ENAMETOOLONG, "socket name " + std::string(name) + " is longer than " +
                                            std::to_string(room) + " bytes");
    std::memcpy(result.address.sun_path, name.data(), name.size());
    if (abstract)
        result.address.sun_path[0] = '\0'; // the name's length is the address's: no terminator
    result.length =
        static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    return result;
}

} // namespace trueno
