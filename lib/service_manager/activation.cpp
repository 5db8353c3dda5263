#include "trueno/service_manager/activation.hpp"

#include "number.hpp"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trueno::service_manager {

Result<int> passed_socket_count(const char* listen_pid, const char* listen_fds, pid_t self) {
    if (listen_pid == nullptr || listen_fds == nullptr)
        return 0;
    const auto pid = parse_decimal(listen_pid);
    if (!pid || *pid == 0 || *pid > static_cast<std::uint64_t>(INT_MAX))
        return make_error(EINVAL,
                          std::string("LISTEN_PID is not a process ID: \"") + listen_pid + "\"");
    if (*pid != static_cast<std::uint64_t>(self))
        return 0; // meant for the process that set it, not this one
    const auto count = parse_decimal(listen_fds);
    if (!count || *count > static_cast<std::uint64_t>(INT_MAX - kListenFdsStart))
        return make_error(EINVAL, std::string("LISTEN_FDS is not a number of sockets: \"") +
                                      listen_fds + "\"");
    return static_cast<int>(*count);
}

Result<int> take_passed_sockets() {
    auto count =
        passed_socket_count(std::getenv("LISTEN_PID"), std::getenv("LISTEN_FDS"), ::getpid());
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!count)
        return count;
    for (int fd = kListenFdsStart; fd < kListenFdsStart + *count; ++fd) {
        const int flags = ::fcntl(fd, F_GETFD);
        if (flags < 0 || ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC) != 0) {
            const int e = errno;
            return make_error(e,
                              "passed socket fd " + std::to_string(fd) + ": " + std::strerror(e));
        }
    }
    return count;
}

Result<bool> is_listening_unix_stream(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        const int e = errno;
        return make_error(e, "fd " + std::to_string(fd) + ": " + std::strerror(e));
    }
    if (!S_ISSOCK(st.st_mode))
        return false;
    int domain = 0, type = 0, listening = 0;
    socklen_t len = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0 || domain != AF_UNIX)
        return false;
    len = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
        return false;
    len = sizeof(int);
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0)
        return false;
    return listening != 0;
}

} // namespace trueno::service_manager
