// The test service and the raw clients of server_fixture.hpp.
#include "server_fixture.hpp"

#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace trueno::testing {

using namespace std::chrono_literals;
using varlink::CallContext;
using varlink::Reply;

namespace {

// The abstract address connect_as binds: "\0trueno-varlink-test <pid> <uid> <serial>".
constexpr const char* posing_prefix = "trueno-varlink-test";

} // namespace

TestService::TestService(varlink::ServerLimits limits, varlink::CredentialSource creds)
    : server(varlink::ServiceInfo{"trueno", "test", "1.2.3", "https://example.invalid"}, limits,
             std::move(creds)) {
    server.add_interface(
        "org.example.test", test_description,
        {{"Echo",
          [this](const CallContext& ctx) {
              ++calls;
              const auto it = ctx.call.parameters.find("value");
              if (it == ctx.call.parameters.end() || !it->is_string())
                  return varlink::invalid_parameter("value");
              return Reply::ok({{"value", *it}});
          }},
         {"Sleep",
          [this](const CallContext& ctx) {
              ++sleeps;
              std::this_thread::sleep_for(
                  std::chrono::milliseconds(ctx.call.parameters.value("ms", 0)));
              return Reply::ok();
          }},
         {"Big",
          [](const CallContext& ctx) {
              return Reply::ok({{"data", std::string(ctx.call.parameters.value("bytes", 0), 'x')}});
          }},
         {"WhoAmI",
          [](const CallContext& ctx) {
              return Reply::ok({{"uid", ctx.peer.uid}, {"pid", ctx.peer.pid}});
          }},
         {"Throw",
          [](const CallContext&) -> Reply {
              throw std::runtime_error("handler bug");
          }},
         {"ThrowInt", [](const CallContext&) -> Reply {
              throw 42;
          }}});
    auto fd = varlink::listen_unix(path);
    REQUIRE(fd.ok());
    REQUIRE(server.start(std::move(*fd)).ok());
}

varlink::Client TestService::client() {
    auto c = varlink::Client::connect(path, 2s);
    REQUIRE(c.ok());
    return std::move(*c);
}

Result<varlink::PeerCredentials> posed_credentials(int fd) {
    sockaddr_un addr{};
    socklen_t len = sizeof(addr);
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        return make_error(errno, "getpeername failed");
    const auto name_len =
        len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
    if (name_len < 2 || addr.sun_path[0] != '\0')
        return varlink::peer_credentials(fd);
    const std::string name(addr.sun_path + 1, name_len - 1);
    char prefix[32] = {};
    int pid = 0;
    unsigned uid = 0;
    unsigned serial = 0;
    if (std::sscanf(name.c_str(), "%31s %d %u %u", prefix, &pid, &uid, &serial) != 4 ||
        std::strcmp(prefix, posing_prefix) != 0)
        return varlink::peer_credentials(fd);
    return varlink::PeerCredentials{pid, uid, uid};
}

UniqueFd connect_as(const std::string& path, unsigned uid) {
    static std::atomic<unsigned> serial{0};
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(fd);
    sockaddr_un self{};
    self.sun_family = AF_UNIX;
    const std::string name = std::string(posing_prefix) + " " + std::to_string(::getpid()) + " " +
                             std::to_string(uid) + " " + std::to_string(serial++);
    REQUIRE(name.size() + 1 < sizeof(self.sun_path));
    std::memcpy(self.sun_path + 1, name.data(), name.size());
    const auto self_len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    REQUIRE(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&self), self_len) == 0);
    // connect() waits while the listen backlog is full: bound it, a test must not hang.
    const timeval limit{5, 0};
    REQUIRE(::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof(limit)) == 0);
    sockaddr_un server{};
    server.sun_family = AF_UNIX;
    REQUIRE(path.size() < sizeof(server.sun_path));
    std::memcpy(server.sun_path, path.data(), path.size());
    REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&server), sizeof(server)) == 0);
    return fd;
}

UniqueFd raw_connect(const std::string& path) {
    auto fd = varlink::connect_unix(path, 2s);
    REQUIRE(fd.ok());
    return std::move(*fd);
}

void raw_send(int fd, const std::string& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        pollfd p{fd, POLLOUT, 0};
        REQUIRE(::poll(&p, 1, 5000) == 1);
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0)
            return; // the server may close first: the test then checks for that
        sent += static_cast<std::size_t>(n);
    }
}

namespace {

// Reads what is there without waiting; true at EOF or reset.
bool reached_end(int fd) {
    std::array<char, 65536> buf{};
    for (;;) {
        const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
            return true;
        if (n < 0)
            return false;
    }
}

} // namespace

bool closed_by_server(int fd, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0)
            continue;
        if (reached_end(fd))
            return true;
    }
    return false;
}

bool hung_up_by_server(int fd, std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < deadline) {
        // POLLIN is not asked for, so queued replies do not wake this; a closed peer sets
        // POLLHUP (always reported) and POLLRDHUP.
        pollfd p{fd, POLLRDHUP, 0};
        if (::poll(&p, 1, 100) > 0 && (p.revents & (POLLHUP | POLLRDHUP)))
            return true;
    }
    return false;
}

std::size_t wait_until_closed(const std::vector<UniqueFd>& fds, std::size_t expected,
                              std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    std::vector<bool> closed(fds.size(), false);
    std::size_t count = 0;
    while (count < expected && std::chrono::steady_clock::now() < deadline) {
        std::vector<pollfd> open;
        std::vector<std::size_t> index;
        for (std::size_t i = 0; i < fds.size(); ++i)
            if (!closed[i]) {
                open.push_back({fds[i].get(), POLLIN, 0});
                index.push_back(i);
            }
        if (::poll(open.data(), open.size(), 100) <= 0)
            continue;
        for (std::size_t k = 0; k < open.size(); ++k)
            if (open[k].revents && reached_end(open[k].fd)) {
                closed[index[k]] = true;
                ++count;
            }
    }
    return count;
}

bool wait_for_client_count(const varlink::Server& server, std::size_t n,
                           std::chrono::milliseconds within) {
    const auto deadline = std::chrono::steady_clock::now() + within;
    while (server.client_count() != n) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

Reply must_call(varlink::Client& c, const std::string& method, const varlink::Json& params) {
    auto r = c.call(method, params, 5s);
    INFO(method << ": " << (r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    return *r;
}

} // namespace trueno::testing
