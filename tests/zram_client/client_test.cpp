// The io.trueno.zram client against a varlink service on a temporary socket that answers with
// fixed data and the interface's errors, and records what it was sent.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "trueno/varlink/server.hpp"
#include "trueno/varlink/socket.hpp"
#include "trueno/zram_client/client.hpp"

using namespace trueno::zram_client;
using namespace std::chrono_literals;
using trueno::testing::TempDir;
using trueno::varlink::CallContext;
using trueno::varlink::Json;
using trueno::varlink::Reply;

namespace {

const char* interface_text =
    "interface io.trueno.zram\nmethod ListDevices() -> (devices: []string)\n";

// io.trueno.zram with fixed answers; `sent` has each call's parameters, by method.
struct FakeDaemon {
    TempDir dir;
    std::string path = dir / "io.trueno.zram";
    std::vector<std::pair<std::string, Json>> sent;
    Json devices =
        Json::array({{{"id", 0},
                      {"name", "/dev/ublkb0"},
                      {"attributes", {{"disksize", "4096"}, {"comp_algorithm", "[lz4] zstd"}}}}});
    trueno::varlink::Server server;

    explicit FakeDaemon(trueno::varlink::ServerLimits limits = {})
        : server(trueno::varlink::ServiceInfo{"test", "fake trueno-zramd", "0", ""}, limits) {
        trueno::varlink::MethodTable m;
        m["ListDevices"] = [this](const CallContext& c) {
            sent.emplace_back("ListDevices", c.call.parameters);
            return Reply::ok({{"devices", devices}});
        };
        m["GetAttributes"] = [this](const CallContext& c) {
            sent.emplace_back("GetAttributes", c.call.parameters);
            if (c.call.parameters["id"] != 0)
                return Reply::failure("io.trueno.zram.NoSuchDevice",
                                      {{"id", c.call.parameters["id"]}});
            return Reply::ok({{"attributes", {{"disksize", "4096"}}}});
        };
        m["CreateDevice"] = [this](const CallContext& c) {
            sent.emplace_back("CreateDevice", c.call.parameters);
            if (c.call.parameters.value("algorithm", "") == "nope")
                return Reply::failure(
                    "io.trueno.zram.InvalidArgument",
                    {{"name", "algorithm"}, {"reason", "unknown algorithm"}, {"errno", ENOENT}});
            return Reply::ok({{"id", 5}, {"name", "/dev/ublkb5"}});
        };
        m["RemoveDevice"] = [this](const CallContext& c) {
            sent.emplace_back("RemoveDevice", c.call.parameters);
            return Reply::failure("io.trueno.zram.DeviceBusy",
                                  {{"id", 0}, {"reason", "active swap"}});
        };
        m["SetAttribute"] = [this](const CallContext& c) {
            sent.emplace_back("SetAttribute", c.call.parameters);
            if (c.call.parameters["name"] == "crash")
                throw std::runtime_error("handler bug");
            return Reply::ok();
        };
        m["GetDaemonInfo"] = [](const CallContext&) {
            return Reply::ok({{"version", "0.1.0"},
                              {"algorithms", {"lzo-rle", "zstd"}},
                              {"ublk_features", 0x42},
                              {"user_copy", true}});
        };
        server.add_interface("io.trueno.zram", interface_text, std::move(m));
        auto fd = trueno::varlink::listen_unix(path);
        REQUIRE(fd.ok());
        REQUIRE(server.start(std::move(*fd)).ok());
    }
    ~FakeDaemon() { server.stop(); }
};

} // namespace

TEST_CASE("replies are read as the interface defines them") {
    FakeDaemon daemon;
    Client client(daemon.path);
    auto devices = client.list_devices();
    REQUIRE(devices.ok());
    REQUIRE(devices->size() == 1);
    CHECK((*devices)[0].id == 0);
    CHECK((*devices)[0].name == "/dev/ublkb0");
    CHECK((*devices)[0].attributes ==
          Attributes{{"disksize", "4096"}, {"comp_algorithm", "[lz4] zstd"}});

    auto attributes = client.attributes(0);
    REQUIRE(attributes.ok());
    CHECK(*attributes == Attributes{{"disksize", "4096"}});

    auto info = client.daemon_info();
    REQUIRE(info.ok());
    CHECK(info->version == "0.1.0");
    CHECK(info->algorithms == std::vector<std::string>{"lzo-rle", "zstd"});
    CHECK(info->ublk_features == 0x42);
    CHECK(info->user_copy);
}

TEST_CASE("CreateDevice sends the fields that are set and only those") {
    FakeDaemon daemon;
    Client client(daemon.path);
    CreateDeviceRequest bare;
    bare.size = 1 << 20;
    auto created = client.create_device(bare);
    REQUIRE(created.ok());
    CHECK(created->id == 5);
    CHECK(created->name == "/dev/ublkb5");

    CreateDeviceRequest full;
    full.size = 4096;
    full.algorithm = "zstd";
    full.params = "level=3";
    full.mem_limit = 0;
    full.id = 2;
    full.streams = 4;
    REQUIRE(client.create_device(full).ok());

    REQUIRE(daemon.sent.size() == 2);
    CHECK(daemon.sent[0].second == Json{{"size", 1 << 20}});
    CHECK(daemon.sent[1].second == Json{{"size", 4096},
                                        {"algorithm", "zstd"},
                                        {"params", "level=3"},
                                        {"mem_limit", 0},
                                        {"id", 2},
                                        {"streams", 4}});
}

TEST_CASE("a refusal carries the method, the error, its parameters and its errno") {
    FakeDaemon daemon;
    Client client(daemon.path);
    auto busy = client.remove_device(0);
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().failure == Failure::refused);
    CHECK(busy.error().code == EBUSY);
    CHECK(busy.error().method == "RemoveDevice");
    CHECK(busy.error().error_name == "io.trueno.zram.DeviceBusy");
    CHECK(busy.error().short_name() == "DeviceBusy");
    CHECK(busy.error().text("reason") == "active swap");
    CHECK(busy.error().text("id").empty()); // not a string

    CreateDeviceRequest bad;
    bad.size = 4096;
    bad.algorithm = "nope";
    auto invalid = client.create_device(bad);
    REQUIRE_FALSE(invalid.ok());
    CHECK(invalid.error().code == ENOENT); // the errno the daemon named

    auto missing = client.attributes(7);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().code == ENODEV);
}

TEST_CASE("a reply that does not match the interface is a bad reply, EPROTO") {
    FakeDaemon daemon;
    Client client(daemon.path);
    for (const Json& devices :
         {Json("none"), Json::array({{{"id", "0"}, {"name", "/dev/ublkb0"}}}),
          Json::array({{{"id", 0}, {"name", "/dev/ublkb0"}, {"attributes", {{"a", 1}}}}})}) {
        daemon.devices = devices;
        auto r = client.list_devices();
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().failure == Failure::bad_reply);
        CHECK(r.error().code == EPROTO);
        CHECK(r.error().method == "ListDevices");
        CHECK_FALSE(r.error().message.empty());
    }
}

TEST_CASE("no daemon: unreachable, with connect's errno and a message naming the socket") {
    TempDir dir;
    Client client(dir / "absent.sock");
    auto r = client.list_devices();
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().failure == Failure::unreachable);
    CHECK(r.error().code == ENOENT);
    CHECK(r.error().method == "ListDevices");
    CHECK(r.error().message.find(dir / "absent.sock") != std::string::npos);
    CHECK_FALSE(client.connect().ok());
}

TEST_CASE("a connection lost during a call fails that call; the next one connects again") {
    FakeDaemon daemon;
    Client client(daemon.path);
    auto r = client.set_attribute(0, "crash", "1");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().failure == Failure::lost);
    CHECK(r.error().code == ECONNRESET);
    CHECK(client.set_attribute(0, "idle", "all").ok());
}

TEST_CASE("a connection the daemon closed while idle is made again before the next call") {
    trueno::varlink::ServerLimits limits;
    limits.idle_timeout = 100ms;
    FakeDaemon daemon(limits);
    Client client(daemon.path);
    REQUIRE(client.list_devices().ok());
    REQUIRE(daemon.server.client_count() == 1);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (daemon.server.client_count() != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    REQUIRE(daemon.server.client_count() == 0);
    auto again = client.list_devices();
    INFO((again.ok() ? "" : again.error().message));
    CHECK(again.ok());
}
