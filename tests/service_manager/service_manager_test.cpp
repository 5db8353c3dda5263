// systemd's protocols as the daemon speaks them: socket activation (LISTEN_PID, LISTEN_FDS),
// notifications (NOTIFY_SOCKET), the watchdog's interval, each against what sd_listen_fds(3),
// sd_notify(3) and sd_watchdog_enabled(3) define.
#include "../varlink/temp_dir.hpp"
#include "datagram_listener.hpp"
#include "trueno/service_manager/activation.hpp"
#include "trueno/service_manager/notify.hpp"
#include "trueno/unique_fd.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace sm = trueno::service_manager;
using trueno::UniqueFd;
using trueno::testing::DatagramListener;
using trueno::testing::TempDir;

namespace {

// Sets an environment variable for one test section, then puts back what was there.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : name_(name) {
        if (const char* old = std::getenv(name))
            old_ = old, had_ = true;
        if (value)
            ::setenv(name, value, 1);
        else
            ::unsetenv(name);
    }
    ~ScopedEnv() {
        if (had_)
            ::setenv(name_, old_.c_str(), 1);
        else
            ::unsetenv(name_);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::string old_;
    bool had_ = false;
};

UniqueFd unix_socket(int type) {
    UniqueFd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC, 0));
    REQUIRE(fd.valid());
    return fd;
}

} // namespace

TEST_CASE("passed sockets are counted only for the process LISTEN_PID names") {
    const pid_t self = 4242;
    CHECK(*sm::passed_socket_count(nullptr, nullptr, self) == 0);
    CHECK(*sm::passed_socket_count("4242", nullptr, self) == 0);
    CHECK(*sm::passed_socket_count(nullptr, "1", self) == 0);
    CHECK(*sm::passed_socket_count("4242", "1", self) == 1);
    CHECK(*sm::passed_socket_count("4242", "0", self) == 0);
    CHECK(*sm::passed_socket_count("4242", "3", self) == 3);
    // Inherited from the parent they were meant for.
    CHECK(*sm::passed_socket_count("4241", "1", self) == 0);
    // Set, but not numbers: an error, not "none".
    for (const char* bad : {"", "x", "-1", "42 42", "4242x", " 4242", "0", "99999999999"}) {
        INFO("LISTEN_PID=" << bad);
        auto count = sm::passed_socket_count(bad, "1", self);
        REQUIRE_FALSE(count);
        CHECK(count.error().code == EINVAL);
        CHECK(count.error().message.find("LISTEN_PID") != std::string::npos);
    }
    for (const char* bad : {"", "one", "-1", "1 ", "2147483647"}) {
        INFO("LISTEN_FDS=" << bad);
        auto count = sm::passed_socket_count("4242", bad, self);
        REQUIRE_FALSE(count);
        CHECK(count.error().code == EINVAL);
        CHECK(count.error().message.find("LISTEN_FDS") != std::string::npos);
    }
}

TEST_CASE("taking passed sockets clears the environment so that no child takes them") {
    ScopedEnv pid("LISTEN_PID", std::to_string(::getppid()).c_str()); // another process's
    ScopedEnv fds("LISTEN_FDS", "1");
    ScopedEnv names("LISTEN_FDNAMES", "varlink");
    auto count = sm::take_passed_sockets();
    REQUIRE(count);
    CHECK(*count == 0);
    CHECK(std::getenv("LISTEN_PID") == nullptr);
    CHECK(std::getenv("LISTEN_FDS") == nullptr);
    CHECK(std::getenv("LISTEN_FDNAMES") == nullptr);
}

TEST_CASE("a listening AF_UNIX stream socket is told from every other fd") {
    TempDir dir;
    const std::string path = dir / "s";
    UniqueFd listening = unix_socket(SOCK_STREAM);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    REQUIRE(::bind(listening.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(listening.get(), 4) == 0);
    CHECK(*sm::is_listening_unix_stream(listening.get()));

    UniqueFd not_listening = unix_socket(SOCK_STREAM);
    CHECK_FALSE(*sm::is_listening_unix_stream(not_listening.get()));
    UniqueFd datagram = unix_socket(SOCK_DGRAM);
    CHECK_FALSE(*sm::is_listening_unix_stream(datagram.get()));
    UniqueFd inet(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(inet.valid());
    CHECK_FALSE(*sm::is_listening_unix_stream(inet.get()));
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
    CHECK_FALSE(*sm::is_listening_unix_stream(read_end.get()));

    const int closed = write_end.release();
    ::close(closed);
    auto result = sm::is_listening_unix_stream(closed);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == EBADF);
}

TEST_CASE("notify sends one datagram to NOTIFY_SOCKET, a path or an abstract name") {
    SECTION("unset: nothing to do") {
        ScopedEnv unset("NOTIFY_SOCKET", nullptr);
        auto sent = sm::notify("READY=1");
        REQUIRE(sent);
        CHECK_FALSE(*sent);
    }
    SECTION("a path") {
        TempDir dir;
        const std::string path = dir / "notify";
        DatagramListener manager(path);
        ScopedEnv set("NOTIFY_SOCKET", path.c_str());
        auto sent = sm::notify("READY=1\nMAINPID=42");
        REQUIRE(sent);
        CHECK(*sent);
        CHECK(manager.receive() == "READY=1\nMAINPID=42");
        REQUIRE(sm::notify("STOPPING=1"));
        CHECK(manager.receive() == "STOPPING=1");
    }
    SECTION("an abstract name") {
        const std::string name = "@trueno-notify-test-" + std::to_string(::getpid());
        DatagramListener manager(name);
        ScopedEnv set("NOTIFY_SOCKET", name.c_str());
        auto sent = sm::notify("STATUS=1 device(s)\nWATCHDOG=1");
        REQUIRE(sent);
        CHECK(manager.receive() == "STATUS=1 device(s)\nWATCHDOG=1");
    }
    SECTION("nothing listening there") {
        TempDir dir;
        ScopedEnv set("NOTIFY_SOCKET", (dir / "gone").c_str());
        auto sent = sm::notify("READY=1");
        REQUIRE_FALSE(sent);
        CHECK(sent.error().code == ENOENT);
        CHECK(sent.error().message.find(dir / "gone") != std::string::npos);
    }
    SECTION("not a socket address") {
        for (const std::string& bad : {std::string("relative/path"), std::string("vsock:2:1234")}) {
            INFO("NOTIFY_SOCKET=" << bad);
            ScopedEnv set("NOTIFY_SOCKET", bad.c_str());
            auto sent = sm::notify("READY=1");
            REQUIRE_FALSE(sent);
            CHECK(sent.error().code == EINVAL);
            CHECK(sent.error().message.find("NOTIFY_SOCKET") != std::string::npos);
        }
        // sun_path holds 108 bytes: a path needs one for its terminator, an abstract name not.
        for (const std::string& bad : {std::string(108, '/'), "@" + std::string(108, 'x')}) {
            INFO("NOTIFY_SOCKET of " << bad.size() << " bytes");
            ScopedEnv set("NOTIFY_SOCKET", bad.c_str());
            auto sent = sm::notify("READY=1");
            REQUIRE_FALSE(sent);
            CHECK(sent.error().code == ENAMETOOLONG);
        }
    }
}

TEST_CASE(
    "the watchdog's interval applies to the process WATCHDOG_PID names, or to any when unset") {
    using std::chrono::microseconds;
    const pid_t self = 4242;
    CHECK(sm::watchdog_interval("30000000", nullptr, self) == microseconds(30000000));
    CHECK(sm::watchdog_interval("30000000", "4242", self) == microseconds(30000000));
    CHECK_FALSE(sm::watchdog_interval("30000000", "4241", self));
    CHECK_FALSE(sm::watchdog_interval("30000000", "x", self));
    CHECK_FALSE(sm::watchdog_interval(nullptr, "4242", self));
    CHECK_FALSE(sm::watchdog_interval("0", "4242", self));
    CHECK_FALSE(sm::watchdog_interval("", nullptr, self));
    CHECK_FALSE(sm::watchdog_interval("30s", nullptr, self));
    CHECK_FALSE(sm::watchdog_interval("-5", nullptr, self));
}
