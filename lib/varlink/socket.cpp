// AF_UNIX socket set-up for the varlink service and its clients.
#include "trueno/varlink/socket.hpp"

#include "trueno/service_manager/activation.hpp"
#include "trueno/unix_address.hpp"

#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>

namespace trueno::varlink {

namespace {

// mkdir -p of the socket's parent; directories made here get 0755 whatever the umask.
Status make_parent_directories(const std::string& path) {
    const auto parent = std::filesystem::path(path).parent_path();
    std::filesystem::path partial;
    for (const auto& part : parent) {
        partial /= part;
        if (::mkdir(partial.c_str(), 0755) == 0) {
            if (::chmod(partial.c_str(), 0755) != 0) return errno_error(errno, "cannot chmod " + partial.string());
        } else if (errno != EEXIST) {
            return errno_error(errno, "cannot create directory " + partial.string());
        }
    }
    return {};
}

} // namespace

Result<UniqueFd> listen_unix(const std::string& path, int backlog) {
    auto addr = unix_address(path);
    if (!addr) return addr.error();

    if (auto made = make_parent_directories(path); !made) return made.error();

    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) return errno_error(errno, "socket(AF_UNIX)");

    if (::bind(fd.get(), addr->get(), addr->length) != 0) {
        if (errno != EADDRINUSE) return errno_error(errno, "cannot bind " + path);
        // Something is at the path: a live service answers a connect, a stale socket does not.
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
            return make_error(EADDRINUSE, "cannot bind " + path + ": a file that is not a socket is in the way");
        UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (probe && ::connect(probe.get(), addr->get(), addr->length) == 0)
            return make_error(EADDRINUSE, "cannot bind " + path + ": another process is serving it");
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            return errno_error(errno, "cannot remove stale socket " + path);
        if (::bind(fd.get(), addr->get(), addr->length) != 0)
            return errno_error(errno, "cannot bind " + path);
    }
    if (::chmod(path.c_str(), 0666) != 0) return errno_error(errno, "cannot chmod 0666 " + path);
    if (::listen(fd.get(), backlog) != 0) return errno_error(errno, "cannot listen on " + path);
    return fd;
}

Result<UniqueFd> systemd_listen_fd() {
    namespace sm = service_manager;
    auto passed = sm::take_passed_sockets();
    if (!passed) return passed.error();
    const int n = *passed;
    if (n == 0) return UniqueFd();
    if (n > 1) {
        for (int i = 0; i < n; ++i) ::close(sm::kListenFdsStart + i);
        return make_error(EINVAL, "systemd passed " + std::to_string(n) + " sockets, expected one");
    }
    UniqueFd fd(sm::kListenFdsStart);
    auto listening = sm::is_listening_unix_stream(fd.get());
    if (!listening) return listening.error();
    if (!*listening) return make_error(EINVAL, "the socket systemd passed is not a listening AF_UNIX stream socket");
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0)
        return errno_error(errno, "fcntl(O_NONBLOCK) on the systemd socket");
    return fd;
}

Result<UniqueFd> connect_unix(const std::string& path, std::chrono::milliseconds timeout) {
    auto addr = unix_address(path);
    if (!addr) return addr.error();
    // Blocking connect bounded by SO_SNDTIMEO: on AF_UNIX a non-blocking connect to a full
    // backlog fails with EAGAIN at once instead of completing later.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return errno_error(errno, "socket(AF_UNIX)");
    const auto usec = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
    timeval tv{static_cast<time_t>(usec / 1000000), static_cast<suseconds_t>(usec % 1000000)};
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
        return errno_error(errno, "setsockopt(SO_SNDTIMEO)");
    int r;
    do {
        r = ::connect(fd.get(), addr->get(), addr->length);
    } while (r != 0 && errno == EINTR);
    if (r != 0) {
        const int err = errno;
        switch (err) {
        case ENOENT: return make_error(err, "cannot connect to " + path + ": no such socket (is trueno-zramd running?)");
        case ECONNREFUSED: return make_error(err, "cannot connect to " + path + ": nothing listening");
        case EAGAIN:
        case EINPROGRESS: return make_error(ETIMEDOUT, "cannot connect to " + path + ": timed out (service busy)");
        default: return errno_error(err, "cannot connect to " + path);
        }
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0)
        return errno_error(errno, "fcntl(O_NONBLOCK)");
    return fd;
}

Result<PeerCredentials> peer_credentials(int fd) {
    ucred cred{};
    socklen_t len = sizeof(cred);
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return errno_error(errno, "SO_PEERCRED");
    return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

} // namespace trueno::varlink
