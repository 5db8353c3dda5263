#include "trueno/service_manager/notify.hpp"

#include "number.hpp"
#include "trueno/unique_fd.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace trueno::service_manager {

Result<bool> notify(std::string_view state) {
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (name == nullptr || *name == '\0')
        return false;
    const std::string_view path(name);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if ((path[0] != '/' && path[0] != '@') ||
        path.size() > sizeof(addr.sun_path) - (path[0] == '/' ? 1 : 0))
        return make_error(EINVAL,
                          "NOTIFY_SOCKET is not an AF_UNIX socket path or abstract name: \"" +
                              std::string(path) + "\"");
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (path[0] == '@')
        addr.sun_path[0] = '\0'; // abstract: the name's length is the address's, no terminator
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                               (path[0] == '/' ? 1 : 0));

    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) {
        const int e = errno;
        return make_error(e, std::string("socket(AF_UNIX, SOCK_DGRAM): ") + std::strerror(e));
    }
    // The service manager reads the sender's credentials from the socket (SO_PASSCRED), so the
    // datagram needs none of its own.
    const ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                  reinterpret_cast<const sockaddr*>(&addr), length);
    if (sent < 0) {
        const int e = errno;
        return make_error(e, "cannot send to NOTIFY_SOCKET " + std::string(path) + ": " +
                                 std::strerror(e));
    }
    if (static_cast<std::size_t>(sent) != state.size())
        return make_error(EMSGSIZE,
                          "NOTIFY_SOCKET " + std::string(path) + " took part of the message");
    return true;
}

std::optional<std::chrono::microseconds> watchdog_interval(const char* watchdog_usec,
                                                           const char* watchdog_pid, pid_t self) {
    if (watchdog_usec == nullptr)
        return std::nullopt;
    if (watchdog_pid != nullptr) {
        const auto pid = parse_decimal(watchdog_pid);
        if (!pid || *pid != static_cast<std::uint64_t>(self))
            return std::nullopt;
    }
    const auto usec = parse_decimal(watchdog_usec);
    if (!usec || *usec == 0 ||
        *usec > static_cast<std::uint64_t>(std::chrono::microseconds::max().count()))
        return std::nullopt;
    return std::chrono::microseconds(static_cast<std::chrono::microseconds::rep>(*usec));
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    return watchdog_interval(std::getenv("WATCHDOG_USEC"), std::getenv("WATCHDOG_PID"), ::getpid());
}

bool booted_with_systemd() {
    struct stat st {};
    return ::lstat("/run/systemd/system/", &st) == 0 && S_ISDIR(st.st_mode);
}

} // namespace trueno::service_manager
