#include "trueno/service_manager/notify.hpp"

#include "number.hpp"
#include "trueno/unique_fd.hpp"
#include "trueno/unix_address.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trueno::service_manager {

Result<bool> notify(std::string_view state) {
    const char* name = std::getenv("NOTIFY_SOCKET");
    if (name == nullptr || *name == '\0')
        return false;
    const std::string_view path(name);
    auto address = unix_address(path, /*allow_abstract=*/true);
    if (!address)
        return make_error(address.error().code, "NOTIFY_SOCKET: " + address.error().message);

    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd)
        return errno_error(errno, "socket(AF_UNIX, SOCK_DGRAM)");
    // The service manager reads the sender's credentials from the socket (SO_PASSCRED), so the
    // datagram needs none of its own.
    const ssize_t sent = ::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                                  address->get(), address->length);
    if (sent < 0)
        return errno_error(errno, "cannot send to NOTIFY_SOCKET " + std::string(path));
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
