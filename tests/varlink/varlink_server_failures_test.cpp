// A failure while serving one client (std::bad_alloc under memory pressure, an exception that
// is not a std::exception) costs that client its connection; the service serves on.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <new>

#include "server_fixture.hpp"
#include "trueno/varlink/client.hpp"
#include "trueno/varlink/server.hpp"

using namespace trueno::varlink;
using namespace trueno::testing;
using namespace std::chrono_literals;

TEST_CASE("a handler throwing what is not a std::exception closes that connection only") {
    TestService svc;
    auto c = svc.client();
    auto r = c.call("org.example.test.ThrowInt", Json::object(), 3s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ECONNRESET);
    auto other = svc.client();
    CHECK(must_call(other, "org.example.test.Echo", {{"value", "y"}}).parameters["value"] == "y");
}

TEST_CASE("a failure while accepting (std::bad_alloc) costs only that connection") {
    std::atomic<bool> fail_next{true};
    TestService svc({}, [&](int fd) -> trueno::Result<PeerCredentials> {
        if (fail_next.exchange(false))
            throw std::bad_alloc();
        return peer_credentials(fd);
    });
    auto unlucky = raw_connect(svc.path);
    CHECK(closed_by_server(unlucky.get()));
    auto next = svc.client();
    CHECK(must_call(next, "org.example.test.Echo", {{"value", "served"}}).parameters["value"] ==
          "served");
    CHECK(svc.server.client_count() == 1);
}
