#include "server_fixture.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>

namespace trueno::testing {

using namespace std::chrono_literals;
using varlink::CallContext;
using varlink::Reply;

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
          [](const CallContext& ctx) {
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

Reply must_call(varlink::Client& c, const std::string& method, const varlink::Json& params) {
    auto r = c.call(method, params, 5s);
    INFO(method << ": " << (r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    return *r;
}

} // namespace trueno::testing
