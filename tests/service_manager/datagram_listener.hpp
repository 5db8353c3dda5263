// A bound AF_UNIX datagram socket standing in for a service manager's socket (systemd's notify
// socket, the journal's): what a test sends to it is read back with receive().
#pragma once

#include "trueno/unique_fd.hpp"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>

namespace trueno::testing {

class DatagramListener {
public:
    // name: a path, or "@" and an abstract name.
    explicit DatagramListener(const std::string& name)
        : fd_(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
        REQUIRE(fd_.valid());
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(name.size() < sizeof(addr.sun_path));
        std::memcpy(addr.sun_path, name.data(), name.size());
        socklen_t length = offsetof(sockaddr_un, sun_path) + name.size() + 1;
        if (name[0] == '@') {
            addr.sun_path[0] = '\0';
            length = offsetof(sockaddr_un, sun_path) + name.size();
        }
        REQUIRE(::bind(fd_.get(), reinterpret_cast<const sockaddr*>(&addr), length) == 0);
        timeval tv{2, 0}; // a datagram that never comes fails the test, it does not hang it
        REQUIRE(::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
    }

    // The next datagram, or "" when none came within 2 s.
    std::string receive() {
        std::string buffer(256 * 1024, '\0');
        const ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), 0);
        buffer.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
        return buffer;
    }

    int fd() const { return fd_.get(); }

private:
    UniqueFd fd_;
};

} // namespace trueno::testing
