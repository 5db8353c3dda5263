// The real transport: trueno-zramctl against a varlink service on a temporary socket that
// answers io.trueno.zram calls with fixed data and the interface's typed errors.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app.hpp"
#include "daemon_client.hpp"
#include "trueno/varlink/server.hpp"
#include "trueno/varlink/socket.hpp"

using namespace trueno;
using namespace trueno::zramctl;
using varlink::Json;
using varlink::Reply;

namespace {

std::string read_interface_text()
{
    std::ifstream in(ZRAMCTL_VARLINK_INTERFACE);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A temporary directory removed at the end of the test.
struct TempDir {
    std::filesystem::path path;
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "zramctl-test-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::filesystem::remove_all(path); }
};

// The service side: a device table and who called what.
struct FakeService {
    std::vector<std::string> calls;
    bool deny_changes = false;

    varlink::MethodTable methods()
    {
        varlink::MethodTable m;
        m["ListDevices"] = [this](const varlink::CallContext&) {
            calls.push_back("ListDevices");
            Json dev0{{"id", 0},
                      {"name", "/dev/ublkb0"},
                      {"attributes",
                       {{"disksize", "4294967296"},
                        {"comp_algorithm", "lzo-rle [lz4] zstd"},
                        {"mm_stat", "12058624  2674688  2859008        0  3145728      371        5       12       12"}}}};
            return Reply::ok(Json{{"devices", Json::array({dev0})}});
        };
        m["GetAttributes"] = [this](const varlink::CallContext& c) {
            calls.push_back("GetAttributes " + c.call.parameters["id"].dump());
            if (c.call.parameters["id"] != 0)
                return Reply::failure("io.trueno.zram.NoSuchDevice", Json{{"id", c.call.parameters["id"]}});
            return Reply::ok(Json{{"attributes", {{"disksize", "4294967296"}, {"initstate", "1"}}}});
        };
        m["CreateDevice"] = [this](const varlink::CallContext& c) {
            calls.push_back("CreateDevice " + c.call.parameters.dump());
            if (deny_changes)
                return Reply::failure("io.trueno.zram.PermissionDenied", Json{{"method", "CreateDevice"}});
            if (c.call.parameters.value("algorithm", "") == "nope")
                return Reply::failure("io.trueno.zram.InvalidArgument",
                                      Json{{"name", "algorithm"},
                                           {"reason", "unknown algorithm 'nope'; available: lzo-rle lz4 zstd"},
                                           {"errno", EINVAL}});
            return Reply::ok(Json{{"id", 5}, {"name", "/dev/ublkb5"}});
        };
        m["RemoveDevice"] = [this](const varlink::CallContext& c) {
            const int id = c.call.parameters["id"].get<int>();
            calls.push_back("RemoveDevice " + std::to_string(id));
            if (deny_changes)
                return Reply::failure("io.trueno.zram.PermissionDenied", Json{{"method", "RemoveDevice"}});
            if (id == 0)
                return Reply::failure("io.trueno.zram.DeviceBusy", Json{{"id", 0}, {"reason", "active swap"}});
            if (id == 2)
                return Reply::failure("io.trueno.zram.SystemError",
                                      Json{{"operation", "UBLK_CMD_DEL_DEV"}, {"errno", EIO}, {"reason", "kernel refused"}});
            if (id != 1)
                return Reply::failure("io.trueno.zram.NoSuchDevice", Json{{"id", id}});
            return Reply::ok();
        };
        m["SetAttribute"] = [this](const varlink::CallContext& c) {
            calls.push_back("SetAttribute " + c.call.parameters.dump());
            if (c.call.parameters["name"] == "disksize")
                return Reply::failure("io.trueno.zram.DeviceBusy", Json{{"id", 0}, {"reason", "already initialised"}});
            return Reply::ok();
        };
        m["GetDaemonInfo"] = [](const varlink::CallContext&) {
            return Reply::ok(Json{{"version", "0"}, {"algorithms", Json::array()}, {"ublk_features", 0}, {"user_copy", false}});
        };
        return m;
    }
};

struct Harness {
    TempDir dir;
    std::string socket = (dir.path / "io.trueno.zram").string();
    FakeService service;
    varlink::Server server{varlink::ServiceInfo{"test", "zramctl-tests", "0", ""}};

    Harness()
    {
        server.add_interface("io.trueno.zram", read_interface_text(), service.methods());
        auto fd = varlink::listen_unix(socket);
        REQUIRE(fd.ok());
        REQUIRE(server.start(std::move(*fd)).ok());
    }
    ~Harness() { server.stop(); }

    struct Out {
        int status;
        std::string out, err;
    };
    Out run_cli(std::vector<std::string> args)
    {
        Environment env = system_environment();
        env.socket_env = std::nullopt;
        env.mounts = [] { return MountTable("", ""); };
        env.ublk_id_taken = [](int) { return false; };
        args.insert(args.begin(), {"trueno-zramctl", "--socket", socket});
        std::ostringstream out, err;
        const int status = zramctl::run(args, out, err, env);
        return {status, out.str(), err.str()};
    }
};

} // namespace

TEST_CASE("listing over varlink", "[varlink]")
{
    Harness h;
    auto r = h.run_cli({"-o", "NAME,ALGORITHM,DISKSIZE,DATA,ZERO-PAGES"});
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(r.out == "NAME        ALGORITHM DISKSIZE  DATA ZERO-PAGES\n"
                   "/dev/ublkb0 lz4             4G 11.5M        371\n");
    CHECK(h.service.calls == std::vector<std::string>{"ListDevices"});
}

TEST_CASE("daemon errors become messages with the device and errno text", "[varlink]")
{
    Harness h;
    auto reset = h.run_cli({"--reset", "/dev/ublkb0", "/dev/ublkb1", "/dev/ublkb2", "/dev/ublkb3"});
    CHECK(reset.status == 1);
    CHECK(reset.err == "trueno-zramctl: /dev/ublkb0: failed to reset: Device or resource busy (active swap)\n"
                       "trueno-zramctl: /dev/ublkb2: failed to reset: Input/output error (UBLK_CMD_DEL_DEV: kernel refused)\n"
                       "trueno-zramctl: /dev/ublkb3: failed to reset: No such device\n");

    auto bad = h.run_cli({"-f", "-s", "1G", "-a", "nope"});
    CHECK(bad.status == 1);
    CHECK(bad.err == "trueno-zramctl: new device: failed to set up (1073741824 bytes): Invalid argument (unknown "
                     "algorithm 'nope'; available: lzo-rle lz4 zstd)\n");

    auto set = h.run_cli({"--set", "disksize=1G", "/dev/ublkb0"});
    CHECK(set.status == 1);
    CHECK(set.err == "trueno-zramctl: /dev/ublkb0: failed to set disksize: Device or resource busy (already initialised)\n");

    auto stat = h.run_cli({"--stat", "/dev/ublkb0"});
    CHECK(stat.status == 0);
    CHECK(stat.out == "disksize: 4294967296\ninitstate: 1\n");
}

TEST_CASE("create sends the parameters the interface defines", "[varlink]")
{
    Harness h;
    auto r = h.run_cli({"--find", "--size", "4G", "--algorithm", "zstd", "-p", "level=3", "-t", "2"});
    CHECK(r.status == 0);
    CHECK(r.out == "/dev/ublkb5\n");
    REQUIRE(h.service.calls.size() == 1);
    const auto sent = Json::parse(h.service.calls[0].substr(std::string("CreateDevice ").size()));
    CHECK(sent == Json{{"size", 4ull << 30}, {"algorithm", "zstd"}, {"params", "level=3"}, {"streams", 2}});
}

TEST_CASE("permission denied says so", "[varlink]")
{
    Harness h;
    h.service.deny_changes = true;
    auto r = h.run_cli({"-r", "/dev/ublkb1"});
    CHECK(r.status == 1);
    CHECK(r.err == "trueno-zramctl: /dev/ublkb1: failed to reset: Permission denied (only root may change "
                   "trueno-zram devices)\n");
}

TEST_CASE("no daemon: one line naming the socket and how to start the service", "[varlink]")
{
    TempDir dir;
    const std::string missing = (dir.path / "absent.sock").string();
    Environment env = system_environment();
    env.socket_env = std::nullopt;
    for (std::vector<std::string> args : {std::vector<std::string>{"trueno-zramctl", "--socket", missing},
                                          {"trueno-zramctl", "--socket", missing, "-r", "/dev/ublkb0", "/dev/ublkb1"},
                                          {"trueno-zramctl", "--socket", missing, "-f", "-s", "1G"}}) {
        std::ostringstream out, err;
        CHECK(zramctl::run(args, out, err, env) == 1);
        CHECK(out.str().empty());
        CHECK(err.str() == "trueno-zramctl: cannot connect to trueno-zramd at " + missing +
                               ": No such file or directory; start it with 'systemctl start trueno-zramd.socket' "
                               "or run trueno-zramd\n");
    }

    // A socket file nobody listens on: refused, same advice.
    const std::string stale = (dir.path / "stale.sock").string();
    {
        auto fd = varlink::listen_unix(stale);
        REQUIRE(fd.ok());
    } // closed: the file stays, nothing listens
    std::ostringstream out, err;
    CHECK(zramctl::run({"trueno-zramctl", "--socket", stale}, out, err, env) == 1);
    CHECK(err.str() == "trueno-zramctl: cannot connect to trueno-zramd at " + stale +
                           ": Connection refused; start it with 'systemctl start trueno-zramd.socket' or run "
                           "trueno-zramd\n");
}
