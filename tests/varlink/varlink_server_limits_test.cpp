// What keeps the varlink service answering root: connection limits that never apply to root,
// and idle connections closed.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server_fixture.hpp"
#include "trueno/varlink/client.hpp"
#include "trueno/varlink/server.hpp"

using namespace trueno::varlink;
using namespace trueno::testing;
using namespace std::chrono_literals;
using trueno::UniqueFd;

namespace {

constexpr unsigned root = 0;

Client client_as(const std::string& path, unsigned uid) {
    return Client(connect_as(path, uid));
}

std::string echo(Client& c, const std::string& value) {
    return must_call(c, "org.example.test.Echo", {{"value", value}})
        .parameters["value"]
        .get<std::string>();
}

} // namespace

TEST_CASE("the defaults are sd-varlink's: 4096 connections, 1024 per user, 60 s idle") {
    const ServerLimits limits;
    CHECK(limits.max_clients == 4096);
    CHECK(limits.max_clients_per_user == 1024);
    CHECK(limits.idle_timeout == 60s);
}

TEST_CASE("a flood of connections by other users cannot keep root's call from being answered") {
    ServerLimits limits;
    limits.max_clients = 16;
    TestService svc(limits, posed_credentials);
    // Two users open 40 connections and never call: the service keeps 16, closes the rest.
    std::vector<UniqueFd> flood;
    for (int i = 0; i < 40; ++i)
        flood.push_back(connect_as(svc.path, 1000 + i % 2));
    CHECK(wait_until_closed(flood, 24) == 24);
    REQUIRE(wait_for_client_count(svc.server, 16));

    // Root still gets in, on more than one connection, and is answered.
    Client first = client_as(svc.path, root);
    Client second = client_as(svc.path, root);
    CHECK(echo(first, "root") == "root");
    CHECK(echo(second, "root again") == "root again");
    CHECK(svc.server.client_count() == 18);

    // Another user still does not.
    auto late = connect_as(svc.path, 1002);
    CHECK(closed_by_server(late.get()));
}

TEST_CASE("one user's connections are limited; other users and root are not held to it") {
    ServerLimits limits;
    limits.max_clients_per_user = 3;
    TestService svc(limits, posed_credentials);
    std::vector<Client> user;
    for (int i = 0; i < 5; ++i)
        user.push_back(client_as(svc.path, 1000));
    // Accepted in order: the first three are served, the other two were closed.
    for (int i = 0; i < 3; ++i)
        CHECK(echo(user[i], std::to_string(i)) == std::to_string(i));
    for (int i = 3; i < 5; ++i) {
        auto r = user[i].call("org.example.test.Echo", {{"value", "x"}}, 3s);
        CHECK_FALSE(r.ok());
    }

    Client other = client_as(svc.path, 1001);
    CHECK(echo(other, "other") == "other");
    std::vector<Client> roots;
    for (int i = 0; i < 5; ++i)
        roots.push_back(client_as(svc.path, root));
    for (auto& c : roots)
        CHECK(echo(c, "root") == "root");

    // A connection the user closes frees its place.
    user.erase(user.begin());
    REQUIRE(wait_for_client_count(svc.server, 2 + 1 + 5));
    Client again = client_as(svc.path, 1000);
    CHECK(echo(again, "again") == "again");
}

TEST_CASE("idle connections are closed; busy ones are not") {
    ServerLimits limits;
    limits.idle_timeout = 1s;
    TestService svc(limits, posed_credentials);
    const auto start = std::chrono::steady_clock::now();
    std::vector<UniqueFd> sitting;
    sitting.push_back(connect_as(svc.path, 1000));
    sitting.push_back(connect_as(svc.path, 1000));
    raw_send(sitting.back().get(), R"({"method":"org.example.test.Ec)"); // a call never finished
    sitting.push_back(connect_as(svc.path, root));
    Client busy = client_as(svc.path, 1000);

    // The busy client calls on while the others sit, until all of theirs are closed.
    std::vector<bool> closed(sitting.size(), false);
    const auto all_closed = [&] {
        return std::find(closed.begin(), closed.end(), false) == closed.end();
    };
    int calls = 0;
    while (!all_closed() && std::chrono::steady_clock::now() - start < 10s) {
        CHECK(echo(busy, std::to_string(calls)) == std::to_string(calls));
        ++calls;
        for (std::size_t i = 0; i < sitting.size(); ++i)
            if (!closed[i])
                closed[i] = closed_by_server(sitting[i].get(), 10ms);
    }
    CHECK(all_closed());
    CHECK(std::chrono::steady_clock::now() - start >= limits.idle_timeout);
    CHECK(echo(busy, "still here") == "still here");
    CHECK(svc.server.client_count() == 1);
}

TEST_CASE("a client sees that the service closed its idle connection") {
    ServerLimits limits;
    limits.idle_timeout = 100ms;
    TestService svc(limits);
    auto c = svc.client();
    CHECK(echo(c, "x") == "x");
    CHECK(c.is_open());
    REQUIRE(wait_for_client_count(svc.server, 0));
    CHECK_FALSE(c.is_open());
}

TEST_CASE("a call sent while the service could not run is answered and not taken for idle") {
    // A busy machine can keep the service's thread from running for longer than the idle
    // timeout; a call that arrived meanwhile waits in the socket and must be read, not closed
    // with its connection. Sleep blocks the loop for as long.
    ServerLimits limits;
    limits.idle_timeout = 100ms;
    TestService svc(limits);
    Client sleeper = svc.client();
    Client late = svc.client();
    CHECK(echo(late, "before") == "before");
    std::thread blocking([&] {
        auto r = sleeper.call("org.example.test.Sleep", {{"ms", 600}}, 60s);
        CHECK(r.ok());
    });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (svc.sleeps.load() == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(1ms);
    REQUIRE(svc.sleeps.load() == 1);
    // Sent while the loop sleeps, 600 ms after this connection's last activity.
    auto r = late.call("org.example.test.Echo", {{"value", "late"}}, 60s);
    blocking.join();
    REQUIRE(r.ok());
    CHECK(r->parameters["value"] == "late");
}
