// The varlink server and client over real AF_UNIX sockets in a temporary directory.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>
#include <vector>

#include "server_fixture.hpp"
#include "trueno/varlink/client.hpp"
#include "trueno/varlink/server.hpp"
#include "trueno/varlink/socket.hpp"

using namespace trueno::varlink;
using namespace std::chrono_literals;
using namespace std::string_literals;
using namespace trueno::testing;
using trueno::UniqueFd;

TEST_CASE("GetInfo names the service and its interfaces") {
    TestService svc;
    auto c = svc.client();
    auto r = must_call(c, "org.varlink.service.GetInfo");
    REQUIRE_FALSE(r.is_error());
    CHECK(r.parameters["vendor"] == "trueno");
    CHECK(r.parameters["product"] == "test");
    CHECK(r.parameters["version"] == "1.2.3");
    CHECK(r.parameters["url"] == "https://example.invalid");
    CHECK(r.parameters["interfaces"] == Json::array({"org.example.test", "org.varlink.service"}));
}

TEST_CASE("GetInterfaceDescription returns the registered text, or InterfaceNotFound") {
    TestService svc;
    auto c = svc.client();
    auto r = must_call(c, "org.varlink.service.GetInterfaceDescription", {{"interface", "org.example.test"}});
    REQUIRE_FALSE(r.is_error());
    CHECK(r.parameters["description"] == test_description);

    auto own = must_call(c, "org.varlink.service.GetInterfaceDescription", {{"interface", "org.varlink.service"}});
    REQUIRE_FALSE(own.is_error());
    CHECK(own.parameters["description"].get<std::string>().find("interface org.varlink.service") != std::string::npos);

    auto missing = must_call(c, "org.varlink.service.GetInterfaceDescription", {{"interface", "no.such"}});
    REQUIRE(missing.is_error());
    CHECK(*missing.error == "org.varlink.service.InterfaceNotFound");
    CHECK(missing.parameters["interface"] == "no.such");

    auto wrong_type = must_call(c, "org.varlink.service.GetInterfaceDescription", {{"interface", 5}});
    REQUIRE(wrong_type.is_error());
    CHECK(*wrong_type.error == "org.varlink.service.InvalidParameter");
    CHECK(wrong_type.parameters["parameter"] == "interface");

    auto absent = must_call(c, "org.varlink.service.GetInterfaceDescription");
    REQUIRE(absent.is_error());
    CHECK(absent.parameters["parameter"] == "interface");
}

TEST_CASE("unknown methods and interfaces get the standard errors") {
    TestService svc;
    auto c = svc.client();
    auto m = must_call(c, "org.example.test.Nope");
    REQUIRE(m.is_error());
    CHECK(*m.error == "org.varlink.service.MethodNotFound");
    CHECK(m.parameters["method"] == "org.example.test.Nope");
    auto s = must_call(c, "org.varlink.service.Nope");
    REQUIRE(s.is_error());
    CHECK(*s.error == "org.varlink.service.MethodNotFound");
    auto i = must_call(c, "org.unknown.Thing");
    REQUIRE(i.is_error());
    CHECK(*i.error == "org.varlink.service.InterfaceNotFound");
    CHECK(i.parameters["interface"] == "org.unknown");
}

TEST_CASE("handlers get parameters and answer many calls on one connection") {
    TestService svc;
    auto c = svc.client();
    for (int i = 0; i < 50; ++i) {
        auto r = must_call(c, "org.example.test.Echo", {{"value", std::to_string(i)}});
        REQUIRE_FALSE(r.is_error());
        CHECK(r.parameters["value"] == std::to_string(i));
    }
    auto bad = must_call(c, "org.example.test.Echo", {{"value", 1}});
    REQUIRE(bad.is_error());
    CHECK(*bad.error == "org.varlink.service.InvalidParameter");
    CHECK(bad.parameters["parameter"] == "value");
}

TEST_CASE("pipelined calls in one write are answered in order; oneway calls get no reply") {
    TestService svc;
    auto fd = raw_connect(svc.path);
    raw_send(fd.get(), R"({"method":"org.example.test.Echo","parameters":{"value":"a"}})"s + '\0' +
                           R"({"method":"org.example.test.Echo","parameters":{"value":"skip"},"oneway":true})" + '\0' +
                           R"({"method":"org.example.test.Echo","parameters":{"value":"b"}})" + '\0');
    Client c(std::move(fd));
    // Two replies ("a", "b") are queued, not three: each later call on this connection reads
    // the oldest unread reply, so the values show the order and that "skip" was never answered.
    auto r = must_call(c, "org.example.test.Echo", {{"value", "c"}});
    CHECK(r.parameters["value"] == "a");
    r = must_call(c, "org.example.test.Echo", {{"value", "d"}});
    CHECK(r.parameters["value"] == "b");
    r = must_call(c, "org.example.test.Echo", {{"value", "e"}});
    CHECK(r.parameters["value"] == "c");
    // Reply "c" proves a, skip, b and c were handled; d and e may still be on their way
    // through the server, so wait (bounded) before counting all six.
    for (int i = 0; i < 500 && svc.calls.load() < 6; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(svc.calls.load() == 6);
}

TEST_CASE("malformed input closes only that connection; the server keeps serving") {
    TestService svc;
    auto good = svc.client();
    const std::string garbage[] = {"{not json"s + '\0', "[1,2]"s + '\0', "{\"method\":42}"s + '\0',
                                   "{\"method\":\"a.B\",\"parameters\":[]}"s + '\0', "\xff\xfe"s + '\0'};
    for (const auto& g : garbage) {
        INFO(g);
        auto fd = raw_connect(svc.path);
        raw_send(fd.get(), g);
        CHECK(closed_by_server(fd.get()));
        auto r = must_call(good, "org.example.test.Echo", {{"value", "still here"}});
        CHECK(r.parameters["value"] == "still here");
    }
}

// Before parse_call refused deep nesting, this message (200 KB, under the 1 MiB cap) overflowed
// the server thread's stack: the whole process died.
TEST_CASE("a call nested 100000 deep closes only its connection") {
    TestService svc;
    auto good = svc.client();
    auto fd = raw_connect(svc.path);
    raw_send(fd.get(), R"({"method":"org.example.test.Echo","parameters":{"value":)"s +
                           std::string(100000, '[') + std::string(100000, ']') + "}}" + '\0');
    CHECK(closed_by_server(fd.get()));
    CHECK(must_call(good, "org.example.test.Echo", {{"value", "alive"}}).parameters["value"] ==
          "alive");
}

TEST_CASE("an oversized message closes its connection") {
    ServerLimits limits;
    limits.max_message_size = 4096;
    TestService svc(limits);
    auto good = svc.client();
    SECTION("without a NUL") {
        auto fd = raw_connect(svc.path);
        raw_send(fd.get(), std::string(8192, ' '));
        CHECK(closed_by_server(fd.get()));
    }
    SECTION("a complete message one byte over") {
        auto fd = raw_connect(svc.path);
        std::string msg = R"({"method":"org.example.test.Echo","parameters":{"value":")";
        msg += std::string(4097 - msg.size() - 3, 'v') + "\"}}";
        REQUIRE(msg.size() == 4097);
        raw_send(fd.get(), msg + '\0');
        CHECK(closed_by_server(fd.get()));
    }
    SECTION("the default cap is 1 MiB") {
        TestService big;
        auto fd = raw_connect(big.path);
        raw_send(fd.get(), std::string(1024 * 1024 + 1, ' '));
        CHECK(closed_by_server(fd.get()));
    }
    auto r = must_call(good, "org.example.test.Echo", {{"value", "ok"}});
    CHECK(r.parameters["value"] == "ok");
}

TEST_CASE("a handler that throws closes that connection only") {
    TestService svc;
    auto c = svc.client();
    auto r = c.call("org.example.test.Throw", Json::object(), 3s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ECONNRESET);
    auto again = c.call("org.example.test.Echo", {{"value", "x"}}, 3s);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == ENOTCONN);
    auto other = svc.client();
    CHECK(must_call(other, "org.example.test.Echo", {{"value", "y"}}).parameters["value"] == "y");
}

TEST_CASE("a client that vanishes mid-call does not disturb the others") {
    TestService svc;
    auto good = svc.client();
    for (int i = 0; i < 20; ++i) {
        {
            auto fd = raw_connect(svc.path);
            // Half a call, then a whole one whose reply has nowhere to go.
            raw_send(fd.get(), i % 2 ? R"({"method":"org.example.test.Ec)"s
                                     : R"({"method":"org.example.test.Big","parameters":{"bytes":300000}})"s + '\0');
        } // closed here
        auto r = must_call(good, "org.example.test.Echo", {{"value", std::to_string(i)}});
        CHECK(r.parameters["value"] == std::to_string(i));
    }
    // Every vanished connection is noticed and freed.
    CHECK(wait_for_client_count(svc.server, 1, 10s));
}

TEST_CASE("a client that never reads its replies does not block others") {
    TestService svc;
    auto slow = raw_connect(svc.path);
    std::string calls;
    for (int i = 0; i < 8; ++i) calls += R"({"method":"org.example.test.Big","parameters":{"bytes":1000000}})"s + '\0';
    raw_send(slow.get(), calls);
    auto good = svc.client();
    // A server that waited for the slow client, which never reads, would never answer: the
    // bound only catches that, it times nothing (2 s failed under ThreadSanitizer on a busy host).
    auto r = good.call("org.example.test.Echo", {{"value", "fast"}}, 60s);
    INFO((r.ok() ? "" : r.error().message));
    REQUIRE(r.ok());
    CHECK(r->parameters["value"] == "fast");
}

TEST_CASE("a client that floods calls without reading is cut off at the output cap") {
    ServerLimits limits;
    limits.max_output_buffer = 256 * 1024;
    TestService svc(limits);
    auto flood = raw_connect(svc.path);
    // One write with many calls whose replies together exceed the cap.
    std::string calls;
    for (int i = 0; i < 64; ++i) calls += R"({"method":"org.example.test.Big","parameters":{"bytes":100000}})"s + '\0';
    raw_send(flood.get(), calls);
    // Not reading (closed_by_server reads, which would drain the replies): they pile up on the
    // server until it drops the connection.
    CHECK(hung_up_by_server(flood.get(), 30s));
    auto good = svc.client();
    CHECK(must_call(good, "org.example.test.Echo", {{"value", "x"}}).parameters["value"] == "x");
}

TEST_CASE("many clients at once") {
    TestService svc;
    constexpr int threads = 8, clients_per_thread = 8, calls_per_client = 10;
    std::atomic<int> ok{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::vector<Client> clients;
            for (int i = 0; i < clients_per_thread; ++i) {
                auto c = Client::connect(svc.path, 5s);
                if (!c) return;
                clients.push_back(std::move(*c));
            }
            for (int k = 0; k < calls_per_client; ++k)
                for (auto& c : clients) {
                    const auto v = std::to_string(t) + "/" + std::to_string(k);
                    auto r = c.call("org.example.test.Echo", {{"value", v}}, 10s);
                    if (r && !r->is_error() && r->parameters["value"] == v) ++ok;
                }
        });
    }
    for (auto& w : workers) w.join();
    CHECK(ok.load() == threads * clients_per_thread * calls_per_client);
}

TEST_CASE("connections beyond max_clients are refused, the rest are served") {
    ServerLimits limits;
    limits.max_clients = 2;
    TestService svc(limits, posed_credentials); // users other than root: root is never refused
    Client a(connect_as(svc.path, 1000));
    Client b(connect_as(svc.path, 1001));
    must_call(a, "org.example.test.Echo", {{"value", "a"}});
    must_call(b, "org.example.test.Echo", {{"value", "b"}});
    auto third = connect_as(svc.path, 1002);
    CHECK(closed_by_server(third.get()));
    CHECK(must_call(a, "org.example.test.Echo", {{"value", "a2"}}).parameters["value"] == "a2");
}

TEST_CASE("out of file descriptors: accepting pauses without spinning, then resumes") {
    TestService svc;
    auto first = svc.client();
    // Sockets made now, connected once no new fd can be had: the server's accept hits EMFILE.
    std::vector<UniqueFd> waiting;
    for (int i = 0; i < 3; ++i) waiting.emplace_back(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    rlimit old{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &old) == 0);
    int highest = 0;
    for (int fd = 0; fd < 4096; ++fd)
        if (::fcntl(fd, F_GETFD) != -1) highest = fd;
    rlimit tight = old;
    tight.rlim_cur = static_cast<rlim_t>(highest + 1);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, svc.path.c_str(), svc.path.size());
    for (auto& fd : waiting)
        REQUIRE(::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
    rusage before{}, after{};
    ::getrusage(RUSAGE_SELF, &before);
    std::this_thread::sleep_for(400ms);
    ::getrusage(RUSAGE_SELF, &after);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &old) == 0);
    const auto cpu_us = [](const rusage& r) { return r.ru_utime.tv_sec * 1000000L + r.ru_utime.tv_usec + r.ru_stime.tv_sec * 1000000L + r.ru_stime.tv_usec; };
    CHECK(cpu_us(after) - cpu_us(before) < 200000); // a spinning loop would burn the whole 400 ms
    // The connected-before client still works, and the waiting ones are served once fds free up.
    CHECK(must_call(first, "org.example.test.Echo", {{"value", "a"}}).parameters["value"] == "a");
    for (auto& fd : waiting) {
        Client c(std::move(fd));
        CHECK(must_call(c, "org.example.test.Echo", {{"value", "late"}}).parameters["value"] == "late");
    }
}

TEST_CASE("handlers see the caller's real credentials, or injected ones") {
    SECTION("SO_PEERCRED") {
        TestService svc;
        auto c = svc.client();
        auto r = must_call(c, "org.example.test.WhoAmI");
        CHECK(r.parameters["uid"] == ::getuid());
        CHECK(r.parameters["pid"] == ::getpid());
    }
    SECTION("an injected credential source") {
        TestService svc({}, [](int) -> trueno::Result<PeerCredentials> { return PeerCredentials{4242, 1000, 1000}; });
        auto c = svc.client();
        auto r = must_call(c, "org.example.test.WhoAmI");
        CHECK(r.parameters["uid"] == 1000);
        CHECK(r.parameters["pid"] == 4242);
    }
    SECTION("a connection whose credentials cannot be read is refused") {
        TestService svc({}, [](int) -> trueno::Result<PeerCredentials> { return trueno::make_error(EPERM, "no"); });
        auto fd = raw_connect(svc.path);
        CHECK(closed_by_server(fd.get()));
    }
}

TEST_CASE("client timeout: ETIMEDOUT, then the connection is unusable") {
    TestService svc;
    auto c = svc.client();
    auto r = c.call("org.example.test.Sleep", {{"ms", 600}}, 100ms);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ETIMEDOUT);
    auto again = c.call("org.example.test.Echo", {{"value", "x"}}, 1s);
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().code == ENOTCONN);
}

TEST_CASE("stop() from another thread ends the service; clients then get clear errors") {
    auto svc = std::make_unique<TestService>();
    auto c = svc->client();
    must_call(c, "org.example.test.Echo", {{"value", "x"}});
    std::thread stopper([&] { svc->server.stop(); });
    stopper.join();
    svc->server.stop(); // idempotent
    auto r = c.call("org.example.test.Echo", {{"value", "y"}}, 2s);
    REQUIRE_FALSE(r.ok());
    // The socket file remains but nothing listens on it.
    auto refused = Client::connect(svc->path, 1s);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ECONNREFUSED);
    CHECK(refused.error().message.find("nothing listening") != std::string::npos);
    CHECK(refused.error().message.find(svc->path) != std::string::npos);
}

TEST_CASE("connect errors name the path and the cause") {
    TempDir dir;
    auto r = Client::connect(dir / "absent.sock", 1s);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ENOENT);
    CHECK(r.error().message.find("no such socket") != std::string::npos);
    CHECK(r.error().message.find(dir / "absent.sock") != std::string::npos);
    auto long_path = Client::connect("/" + std::string(200, 'x'), 1s);
    REQUIRE_FALSE(long_path.ok());
    CHECK(long_path.error().code == ENAMETOOLONG);
}

TEST_CASE("listen_unix: directories, permissions, stale and live sockets") {
    TempDir dir;
    const auto path = dir / "a/b/svc.sock";
    const auto old_umask = ::umask(077);
    auto fd = listen_unix(path);
    ::umask(old_umask);
    REQUIRE(fd.ok());
    struct stat st {};
    REQUIRE(::stat((dir / "a/b").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0755);
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK((st.st_mode & 0777) == 0666);

    SECTION("a live socket is not taken over") {
        auto second = listen_unix(path);
        REQUIRE_FALSE(second.ok());
        CHECK(second.error().code == EADDRINUSE);
    }
    SECTION("a stale socket is replaced") {
        fd->reset(); // the socket file stays, nobody listens
        auto again = listen_unix(path);
        REQUIRE(again.ok());
        auto c = connect_unix(path, 1s);
        CHECK(c.ok());
    }
    SECTION("a regular file in the way is not removed") {
        const auto file = dir / "plain";
        std::ofstream(file) << "data";
        auto r = listen_unix(file);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == EADDRINUSE);
        CHECK(std::filesystem::is_regular_file(file));
    }
}

TEST_CASE("varlink-call prints the reply and exits 0, or exits 1 on errors") {
    const char* tool = std::getenv("VARLINK_CALL");
    if (!tool) {
        WARN("VARLINK_CALL is not set: run through meson test to check the tool");
        return;
    }
    TestService svc;
    auto run = [&](const std::string& args, std::string& out) {
        const auto cmd = std::string(tool) + " " + args + " 2>/dev/null";
        FILE* p = ::popen(cmd.c_str(), "r");
        REQUIRE(p);
        std::array<char, 4096> buf{};
        out.clear();
        while (auto n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
        const int status = ::pclose(p);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    };
    std::string out;
    CHECK(run(svc.path + " org.example.test.Echo '{\"value\":\"hi\"}'", out) == 0);
    auto j = Json::parse(out);
    CHECK(j["parameters"]["value"] == "hi");
    CHECK(run(svc.path + " org.example.test.Nope", out) == 1);
    CHECK(Json::parse(out)["error"] == "org.varlink.service.MethodNotFound");
    CHECK(run(svc.path + " org.example.test.Echo '[1]'", out) == 2);
    CHECK(run(svc.dir.path().string() + "/absent org.example.test.Echo", out) == 1);
    CHECK(run("", out) == 2);
}
