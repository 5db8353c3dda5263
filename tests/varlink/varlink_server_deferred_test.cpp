// Deferred replies: a handler hands its call to other work and the reply is sent later, from
// any thread, while the loop serves everyone else; the caller's own later calls wait, in order.
#include "server_fixture.hpp"
#include "trueno/varlink/framing.hpp"
#include "trueno/varlink/server.hpp"

#include <array>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <thread>

using namespace trueno::varlink;
using namespace std::chrono_literals;
using namespace trueno::testing;
using trueno::UniqueFd;

namespace {

// org.example.test with Later (parked until the test answers it), Echo, Drop (deferred and
// dropped unanswered) and Soon (deferred and answered before the handler returns).
struct DeferringService {
    TempDir dir;
    std::string path = dir / "deferred.sock";
    Server server;
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<DeferredReply> parked;
    std::atomic<int> echoes{0};

    explicit DeferringService(ServerLimits limits = {})
        : server(ServiceInfo{"trueno", "test", "1", "https://example.invalid"}, limits) {
        server.add_interface(
            "org.example.test", test_description,
            {{"Later",
              [this](const CallContext& ctx) {
                  auto reply = ctx.defer();
                  std::lock_guard lock(mutex);
                  parked.push_back(std::move(reply));
                  changed.notify_all();
                  return Reply::ok({{"ignored", true}});
              }},
             {"Echo",
              [this](const CallContext& ctx) {
                  ++echoes;
                  return Reply::ok({{"value", ctx.call.parameters.value("value", "")}});
              }},
             {"Drop",
              [](const CallContext& ctx) {
                  (void)ctx.defer();
                  return Reply::ok();
              }},
             {"Soon", [](const CallContext& ctx) {
                  ctx.defer().send(Reply::ok({{"soon", true}}));
                  return Reply::ok({{"ignored", true}});
              }}});
        auto fd = listen_unix(path);
        REQUIRE(fd.ok());
        REQUIRE(server.start(std::move(*fd)).ok());
    }

    // Waits until n calls are parked (bounded: a failing test must not hang).
    bool wait_parked(std::size_t n) {
        std::unique_lock lock(mutex);
        return changed.wait_for(lock, 10s, [&] { return parked.size() >= n; });
    }
    DeferredReply take() {
        std::lock_guard lock(mutex);
        auto r = std::move(parked.front());
        parked.pop_front();
        return r;
    }
};

// A raw connection that sends calls and reads replies one at a time.
struct Raw {
    UniqueFd fd;
    std::string buffer;

    explicit Raw(const std::string& path) : fd(raw_connect(path)) {}

    void send(const std::string& method, const Json& params = Json::object()) {
        raw_send(fd.get(), frame(Json{{"method", method}, {"parameters", params}}.dump()));
    }
    // The next reply, or nothing if none is complete within the time.
    std::optional<Json> next(std::chrono::milliseconds within = 10s) {
        const auto deadline = std::chrono::steady_clock::now() + within;
        for (;;) {
            if (const auto end = buffer.find('\0'); end != std::string::npos) {
                auto json = Json::parse(buffer.substr(0, end));
                buffer.erase(0, end + 1);
                return json;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{fd.get(), POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(std::max<long long>(left.count(), 0))) <= 0)
                return std::nullopt;
            std::array<char, 4096> chunk{};
            const ssize_t n = ::recv(fd.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
            if (n <= 0)
                return std::nullopt;
            buffer.append(chunk.data(), static_cast<std::size_t>(n));
        }
    }
};

} // namespace

TEST_CASE("a deferred call holds no one else: other clients are answered, then it is") {
    DeferringService svc;
    Raw waiting(svc.path);
    waiting.send("org.example.test.Later");
    REQUIRE(svc.wait_parked(1));

    Client other = Client::connect(svc.path, 2s).value();
    CHECK(must_call(other, "org.example.test.Echo", {{"value", "meanwhile"}}).parameters["value"] ==
          "meanwhile");
    CHECK_FALSE(waiting.next(0ms)); // nothing was sent for it yet

    // Sent from another thread, as a device's worker does.
    std::thread([reply = svc.take()] { reply.send(Reply::ok({{"late", true}})); }).join();
    const auto reply = waiting.next();
    REQUIRE(reply);
    CHECK((*reply)["parameters"]["late"] == true);
    CHECK_FALSE(reply->contains("error"));
}

TEST_CASE("calls behind a deferred one on its connection wait, and replies keep their order") {
    DeferringService svc;
    Raw c(svc.path);
    // Both in one write: the second is read with the first.
    raw_send(c.fd.get(),
             frame(R"({"method":"org.example.test.Later"})") +
                 frame(R"({"method":"org.example.test.Echo","parameters":{"value":"after"}})"));
    REQUIRE(svc.wait_parked(1));
    // Another client's call is served: the loop went on, yet the Echo behind Later did not run.
    Client other = Client::connect(svc.path, 2s).value();
    CHECK(must_call(other, "org.example.test.Echo", {{"value", "x"}}).parameters["value"] == "x");
    CHECK(svc.echoes == 1);
    CHECK_FALSE(c.next(0ms));

    svc.take().send(Reply::ok({{"first", true}}));
    const auto first = c.next();
    const auto second = c.next();
    REQUIRE(first);
    REQUIRE(second);
    CHECK((*first)["parameters"]["first"] == true);
    CHECK((*second)["parameters"]["value"] == "after");
    // Reading goes on after it: a deferred call once more, then a plain one.
    c.send("org.example.test.Later");
    REQUIRE(svc.wait_parked(1));
    svc.take().send(Reply::failure("org.example.test.Failed"));
    const auto third = c.next();
    REQUIRE(third);
    CHECK((*third)["error"] == "org.example.test.Failed");
    c.send("org.example.test.Echo", {{"value", "again"}});
    const auto fourth = c.next();
    REQUIRE(fourth);
    CHECK((*fourth)["parameters"]["value"] == "again");
}

TEST_CASE("a reply sent before its handler returns is delivered") {
    DeferringService svc;
    Client c = Client::connect(svc.path, 2s).value();
    for (int i = 0; i < 3; ++i) {
        const auto r = must_call(c, "org.example.test.Soon");
        CHECK(r.parameters["soon"] == true);
        CHECK_FALSE(r.parameters.contains("ignored"));
    }
}

TEST_CASE("a deferred call dropped unanswered closes its connection only") {
    DeferringService svc;
    Raw c(svc.path);
    c.send("org.example.test.Drop");
    CHECK(closed_by_server(c.fd.get()));
    Client other = Client::connect(svc.path, 2s).value();
    CHECK(must_call(other, "org.example.test.Echo", {{"value", "ok"}}).parameters["value"] == "ok");
}

TEST_CASE("a reply for a client that left, or after the server stopped, is dropped") {
    DeferredReply after_stop;
    {
        DeferringService svc;
        {
            Raw gone(svc.path);
            gone.send("org.example.test.Later");
            REQUIRE(svc.wait_parked(1));
        } // closed while its call waits: the server closes its side too
        REQUIRE(wait_for_client_count(svc.server, 0));
        // Its fd number is likely reused by the next connection: the reply must not go there.
        Raw next(svc.path);
        REQUIRE(wait_for_client_count(svc.server, 1));
        svc.take().send(Reply::ok({{"stale", true}}));
        next.send("org.example.test.Echo", {{"value", "mine"}});
        const auto r = next.next();
        REQUIRE(r);
        CHECK((*r)["parameters"]["value"] == "mine");

        Raw last(svc.path);
        last.send("org.example.test.Later");
        REQUIRE(svc.wait_parked(1));
        after_stop = svc.take();
        svc.server.stop();
        after_stop.send(Reply::ok()); // after stop(): nowhere to go
    }
    after_stop = DeferredReply(); // the last copy, after the server itself is gone
}

TEST_CASE("a connection waiting for its deferred reply is not closed as idle") {
    ServerLimits limits;
    limits.idle_timeout = 200ms;
    DeferringService svc(limits);
    Raw waiting(svc.path);
    waiting.send("org.example.test.Later");
    REQUIRE(svc.wait_parked(1));
    // Connected later, so once it is closed as idle the waiting one has been idle longer.
    Raw sitting(svc.path);
    REQUIRE(closed_by_server(sitting.fd.get(), 10s));
    CHECK(wait_for_client_count(svc.server, 1));
    svc.take().send(Reply::ok({{"kept", true}}));
    const auto r = waiting.next();
    REQUIRE(r);
    CHECK((*r)["parameters"]["kept"] == true);
}
