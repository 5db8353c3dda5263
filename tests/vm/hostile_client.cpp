// hostile-client [--uid UID] SOCKET CASE [ARGS]: a misbehaving varlink client, for the VM test
// tests/vm/guest/hostile.sh. With --uid it drops root (groups, gid, uid) before it connects, so
// the daemon sees another user. It prints one "hostile-client: ..." line and exits 0 when the
// daemon behaved as the case expects, 1 when it did not, 2 on bad usage. Cases:
//   send EXPECT MESSAGE   MESSAGE and a NUL on a new connection. EXPECT: "ok" (a reply without
//                         error), "error" (any error reply), "closed" (closed without a reply),
//                         "silent" (no reply within 2 s, the connection open: oneway), or the
//                         tail of the error's name ("PermissionDenied").
//   deep EXPECT DEPTH     send with GetAttributes whose id is nested in DEPTH arrays.
//   pad EXPECT BYTES      send with ListDevices carrying an unknown string parameter of BYTES.
//   probe LIMIT_MS MESSAGE  send ok, and within LIMIT_MS; prints the time taken.
//   garbage N             N connections each sending random bytes and a NUL: each must be closed
//                         without a reply.
//   oversized BYTES       BYTES without a NUL, on two connections (in one send, in 64 KiB
//                         sends): both must be closed without a reply once past the cap.
//   truncated N HOLD_S    N connections each sending half a call; held HOLD_S s, then dropped.
//   vanish N              N connections that send a call and go: half close at once, a quarter
//                         reset (SO_LINGER 0), a quarter half-close, which must still get the
//                         reply.
//   noreader N HOLD_S     one connection pipelining up to N calls, never reading; held HOLD_S s,
//                         then reset.
//   connections N HOLD_FILE  N connections, each sending one call: every one must be answered or
//                         refused (closed), none left hanging; the answered ones are held open
//                         until HOLD_FILE exists (at most 120 s).
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <string>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

namespace {

std::string g_socket;
// The device the calls of vanish and noreader name (TRUENO_DEVICE_ID, default 0).
std::string g_id = "0";
std::uint64_t g_random = 0x9e3779b97f4a7c15ULL;

std::uint64_t next_random() {
    g_random ^= g_random << 13;
    g_random ^= g_random >> 7;
    g_random ^= g_random << 17;
    return g_random;
}

double now_ms() {
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

int result(bool ok, const std::string& what) {
    std::printf("hostile-client: %s: %s\n", ok ? "ok" : "WRONG", what.c_str());
    std::fflush(stdout);
    return ok ? 0 : 1;
}

// A blocking connect (a full backlog waits, at most 10 s); -1 on failure.
int connect_socket() {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", g_socket.c_str());
    if (connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Writes all of it; false when the daemon closed (errno EPIPE, ECONNRESET) or the timeout
// passed (EAGAIN).
bool send_all(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

enum class Outcome { reply, closed, timeout };

// Reads one NUL-terminated reply, waiting at most timeout_ms.
Outcome read_reply(int fd, int timeout_ms, std::string& reply) {
    reply.clear();
    const double end = now_ms() + timeout_ms;
    for (;;) {
        const int left = static_cast<int>(end - now_ms());
        if (left <= 0)
            return Outcome::timeout;
        pollfd p{fd, POLLIN, 0};
        const int r = poll(&p, 1, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return Outcome::timeout;
        char buffer[65536];
        const ssize_t n = recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return Outcome::closed;
        reply.append(buffer, static_cast<std::size_t>(n));
        if (const auto nul = reply.find('\0'); nul != std::string::npos) {
            reply.resize(nul);
            return Outcome::reply;
        }
    }
}

// The error name of a reply, "" for none (replies are small: a substring search will do).
std::string error_of(const std::string& reply) {
    const auto at = reply.find("\"error\":\"");
    if (at == std::string::npos)
        return "";
    const auto start = at + 9;
    return reply.substr(start, reply.find('"', start) - start);
}

// A send that failed because the daemon closed the connection (not a timeout).
bool closed_by_peer(int err) {
    return err == EPIPE || err == ECONNRESET;
}

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string shorten(std::string s) {
    if (s.size() > 200)
        s = s.substr(0, 200) + "...";
    return s;
}

int send_case(const std::string& expect, const std::string& message, const std::string& label) {
    const int fd = connect_socket();
    if (fd < 0)
        return result(false, label + ": connect: " + std::strerror(errno));
    std::string reply;
    Outcome got = Outcome::closed;
    if (send_all(fd, message + '\0'))
        got = read_reply(fd, expect == "silent" ? 2000 : 30000, reply);
    else if (!closed_by_peer(errno))
        got = Outcome::timeout;
    close(fd);
    const std::string seen = got == Outcome::closed    ? "closed without a reply"
                             : got == Outcome::timeout ? "no reply"
                                                       : "reply " + shorten(reply);
    bool ok = false;
    if (expect == "closed")
        ok = got == Outcome::closed;
    else if (expect == "silent")
        ok = got == Outcome::timeout;
    else if (got == Outcome::reply && expect == "ok")
        ok = error_of(reply).empty();
    else if (got == Outcome::reply && expect == "error")
        ok = !error_of(reply).empty();
    else if (got == Outcome::reply)
        ok = ends_with(error_of(reply), "." + expect);
    return result(ok, label + " -> " + seen + " (expected " + expect + ")");
}

std::string nested_id(long depth) {
    return "{\"method\":\"io.trueno.zram.GetAttributes\",\"parameters\":{\"id\":" +
           std::string(static_cast<std::size_t>(depth), '[') + "0" +
           std::string(static_cast<std::size_t>(depth), ']') + "}}";
}

std::string random_bytes(std::size_t n) {
    std::string s(n, 'x');
    for (auto& c : s) {
        c = static_cast<char>(next_random() & 0xff);
        if (c == '\0')
            c = '{';
    }
    return s;
}

int garbage(long n) {
    long closed = 0;
    for (long i = 0; i < n; ++i) {
        const int fd = connect_socket();
        if (fd < 0)
            return result(false, "garbage: connect: " + std::string(std::strerror(errno)));
        std::string reply;
        const auto bytes = random_bytes(1 + next_random() % 4096) + '\0';
        const bool sent = send_all(fd, bytes);
        if ((!sent && closed_by_peer(errno)) ||
            (sent && read_reply(fd, 30000, reply) == Outcome::closed))
            ++closed;
        else
            std::printf("hostile-client: garbage %ld was answered or left open: %s\n", i,
                        shorten(reply).c_str());
        close(fd);
    }
    return result(closed == n, "garbage: " + std::to_string(closed) + " of " + std::to_string(n) +
                                   " connections closed without a reply");
}

int oversized(long bytes) {
    // In one send, and in 64 KiB sends (the daemon reads 64 KiB at a time).
    int closed = 0;
    for (int slow = 0; slow < 2; ++slow) {
        const int fd = connect_socket();
        if (fd < 0)
            return result(false, "oversized: connect: " + std::string(std::strerror(errno)));
        const std::string head =
            "{\"method\":\"io.trueno.zram.ListDevices\",\"parameters\":{\"x\":\"";
        std::string body = head + std::string(static_cast<std::size_t>(bytes) - head.size(), 'A');
        bool sent = true;
        const std::size_t step = slow ? 65536 : body.size();
        for (std::size_t at = 0; at < body.size() && sent; at += step)
            sent = send_all(fd, body.substr(at, step));
        std::string reply;
        if ((!sent && closed_by_peer(errno)) ||
            (sent && read_reply(fd, 30000, reply) == Outcome::closed))
            ++closed;
        close(fd);
    }
    return result(closed == 2, "oversized: " + std::to_string(closed) + " of 2 connections of " +
                                   std::to_string(bytes) + " bytes closed without a reply");
}

int truncated(long n, long hold_s) {
    std::vector<int> fds;
    const std::string call =
        "{\"method\":\"io.trueno.zram.GetAttributes\",\"parameters\":{\"id\":" + g_id + "}}";
    for (long i = 0; i < n; ++i) {
        const int fd = connect_socket();
        if (fd < 0)
            break;
        send_all(fd, call.substr(0, static_cast<std::size_t>(next_random() % call.size())));
        fds.push_back(fd);
    }
    sleep(static_cast<unsigned>(hold_s));
    long answered = 0;
    for (int fd : fds) {
        char c;
        if (recv(fd, &c, 1, MSG_DONTWAIT) > 0)
            ++answered;
        close(fd);
    }
    return result(static_cast<long>(fds.size()) == n && answered == 0,
                  "truncated: " + std::to_string(fds.size()) + " of " + std::to_string(n) +
                      " half-sent calls held " + std::to_string(hold_s) + " s, " +
                      std::to_string(answered) + " answered");
}

int vanish(long n) {
    const std::string calls[] = {
        "{\"method\":\"io.trueno.zram.ListDevices\"}",
        "{\"method\":\"io.trueno.zram.GetAttributes\",\"parameters\":{\"id\":" + g_id + "}}",
        "{\"method\":\"io.trueno.zram.RemoveDevice\",\"parameters\":{\"id\":" + g_id + "}}",
        "{\"method\":\"io.trueno.zram.SetAttribute\",\"parameters\":{\"id\":" + g_id +
            ",\"name\":\"mem_limit\",\"value\":\"1M\"}}",
    };
    long half_closed = 0, answered = 0;
    for (long i = 0; i < n; ++i) {
        const int fd = connect_socket();
        if (fd < 0)
            return result(false, "vanish: connect: " + std::string(std::strerror(errno)));
        send_all(fd, calls[i % 4] + '\0');
        if (i % 4 == 1) {
            linger l{1, 0}; // close sends a reset
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        } else if (i % 4 == 2) {
            // Gone for writing only: the reply is still owed.
            shutdown(fd, SHUT_WR);
            ++half_closed;
            std::string reply;
            if (read_reply(fd, 30000, reply) == Outcome::reply)
                ++answered;
        }
        close(fd);
    }
    return result(answered == half_closed,
                  "vanish: " + std::to_string(n) + " clients gone mid-call; " +
                      std::to_string(answered) + " of " + std::to_string(half_closed) +
                      " half-closed ones answered");
}

int noreader(long n, long hold_s) {
    const int fd = connect_socket();
    if (fd < 0)
        return result(false, "noreader: connect: " + std::string(std::strerror(errno)));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    const std::string calls =
        std::string("{\"method\":\"io.trueno.zram.ListDevices\"}") + '\0' +
        "{\"method\":\"io.trueno.zram.SetAttribute\",\"parameters\":{\"id\":" + g_id +
        ",\"name\":\"mem_limit\",\"value\":\"1M\"}}" + '\0';
    long sent = 0;
    const double end = now_ms() + 10000;
    while (sent < n && now_ms() < end) {
        const ssize_t w = send(fd, calls.data(), calls.size(), MSG_NOSIGNAL);
        if (w == static_cast<ssize_t>(calls.size())) {
            sent += 2;
            continue;
        }
        if (w >= 0 || errno == EAGAIN) {
            // The daemon stopped reading (its replies are unread): a partial call is left.
            if (w > 0)
                sent += 2;
            break;
        }
        break; // closed by the daemon
    }
    sleep(static_cast<unsigned>(hold_s));
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    close(fd);
    return result(true, "noreader: " + std::to_string(sent) + " calls pipelined, none read, held " +
                            std::to_string(hold_s) + " s, then reset");
}

int connections(long n, const char* hold_file) {
    std::vector<int> fds;
    long connect_failed = 0;
    const std::string call = std::string("{\"method\":\"io.trueno.zram.GetDaemonInfo\"}") + '\0';
    for (long i = 0; i < n; ++i) {
        const int fd = connect_socket();
        if (fd < 0) {
            ++connect_failed;
            continue;
        }
        send_all(fd, call); // a refused one fails here or reads EOF below
        fds.push_back(fd);
    }
    // Every connection: answered, or closed (refused); none may hang.
    std::vector<int> open;
    long refused = 0, hanging = 0;
    const double end = now_ms() + 30000;
    for (int fd : fds) {
        std::string reply;
        const int left = static_cast<int>(end - now_ms());
        const auto got = read_reply(fd, left > 0 ? left : 1, reply);
        if (got == Outcome::reply && error_of(reply).empty()) {
            open.push_back(fd);
            continue;
        }
        if (got == Outcome::closed)
            ++refused;
        else
            ++hanging;
        close(fd);
    }
    std::printf("hostile-client: connections: %ld asked, %zu answered and held, %ld refused, %ld "
                "connects failed, %ld hanging\n",
                n, open.size(), refused, connect_failed, hanging);
    std::fflush(stdout);
    for (int i = 0; i < 1200 && access(hold_file, F_OK) != 0; ++i)
        usleep(100000);
    // Still open: the daemon must not have dropped held connections that did nothing wrong...
    // except through its idle timeout (60 s), which the hold stays well under.
    long still_open = 0;
    for (int fd : open) {
        char c;
        const ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
        if (r < 0 && errno == EAGAIN)
            ++still_open;
        close(fd);
    }
    return result(hanging == 0 && connect_failed == 0 && !open.empty() &&
                      still_open == static_cast<long>(open.size()),
                  "connections: " + std::to_string(open.size()) + " held, " +
                      std::to_string(still_open) + " still open at the end");
}

// Drops root for uid (and gid uid), after raising the fd limit while it still may.
bool become(uid_t uid) {
    rlimit r{8192, 8192};
    if (setrlimit(RLIMIT_NOFILE, &r) != 0 && getrlimit(RLIMIT_NOFILE, &r) == 0) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
    if (setgroups(0, nullptr) != 0 || setresgid(uid, uid, uid) != 0 ||
        setresuid(uid, uid, uid) != 0) {
        std::perror("hostile-client: dropping root");
        return false;
    }
    return getuid() == uid && geteuid() == uid;
}

int usage() {
    std::fprintf(stderr, "usage: hostile-client [--uid UID] SOCKET CASE [ARGS] (see the source)\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    g_random ^= static_cast<std::uint64_t>(getpid()) * 0x2545f4914f6cdd1dULL;
    if (args.size() >= 2 && args[0] == "--uid") {
        if (!become(static_cast<uid_t>(std::atol(args[1].c_str()))))
            return 2;
        args.erase(args.begin(), args.begin() + 2);
    } else {
        rlimit r{8192, 8192};
        setrlimit(RLIMIT_NOFILE, &r);
    }
    if (args.size() < 2)
        return usage();
    g_socket = args[0];
    if (const char* id = std::getenv("TRUENO_DEVICE_ID"))
        g_id = id;
    const std::string what = args[1];
    const auto num = [&](std::size_t i) {
        return i < args.size() ? std::atol(args[i].c_str()) : 0L;
    };
    if (what == "send" && args.size() == 4)
        return send_case(args[2], args[3], shorten(args[3]));
    if (what == "deep" && args.size() == 4)
        return send_case(args[2], nested_id(num(3)), "id nested " + args[3] + " deep");
    if (what == "pad" && args.size() == 4)
        return send_case(args[2],
                         "{\"method\":\"io.trueno.zram.ListDevices\",\"parameters\":{\"pad\":\"" +
                             std::string(static_cast<std::size_t>(num(3)), 'p') + "\"}}",
                         "ListDevices with a " + args[3] + "-byte unknown parameter");
    if (what == "probe" && args.size() == 4) {
        const double start = now_ms();
        const int fd = connect_socket();
        std::string reply;
        const bool answered = fd >= 0 && send_all(fd, args[3] + '\0') &&
                              read_reply(fd, 60000, reply) == Outcome::reply;
        const double took = now_ms() - start;
        if (fd >= 0)
            close(fd);
        char ms[32];
        std::snprintf(ms, sizeof(ms), "%.0f", took);
        return result(answered && error_of(reply).empty() && took <= static_cast<double>(num(2)),
                      std::string("probe ") + ms + " ms" +
                          (answered ? (error_of(reply).empty() ? "" : " error " + error_of(reply))
                                    : " no reply"));
    }
    if (what == "garbage" && args.size() == 3)
        return garbage(num(2));
    if (what == "oversized" && args.size() == 3)
        return oversized(num(2));
    if (what == "truncated" && args.size() == 4)
        return truncated(num(2), num(3));
    if (what == "vanish" && args.size() == 3)
        return vanish(num(2));
    if (what == "noreader" && args.size() == 4)
        return noreader(num(2), num(3));
    if (what == "connections" && args.size() == 4)
        return connections(num(2), args[3].c_str());
    return usage();
}
