// io.trueno.zram end to end: a varlink server with the control handlers, clients on a socket.
#include <catch2/catch.hpp>

#include <unistd.h>

#include "control/interface_description.hpp"
#include "control/zram_control.hpp"
#include "fake_device_manager.hpp"
#include "temp_dir.hpp"
#include "trueno/varlink/client.hpp"
#include "trueno/varlink/server.hpp"

using namespace trueno;
using namespace trueno::service;
using namespace std::chrono_literals;
using varlink::Json;

namespace {

struct Daemon {
    testing::TempDir dir;
    std::string path = dir / "io.trueno.zram";
    testing::FakeDeviceManager devices;
    ZramControl control{devices, DaemonInfo{"0.1.0", {"lz4"}, 0, false}};
    varlink::Server server;

    explicit Daemon(unsigned uid)
        : server(varlink::ServiceInfo{"trueno-zram", "trueno-zramd", "0.1.0", "https://example.invalid"}, {},
                 [uid](int fd) -> Result<varlink::PeerCredentials> {
                     auto real = varlink::peer_credentials(fd);
                     if (!real) return real;
                     real->uid = uid; // pose as this user
                     return real;
                 }) {
        register_zram_control(server, control);
        auto fd = varlink::listen_unix(path);
        REQUIRE(fd.ok());
        REQUIRE(server.start(std::move(*fd)).ok());
    }

    varlink::Reply call(const std::string& method, const Json& params = Json::object()) {
        auto c = varlink::Client::connect(path, 2s);
        REQUIRE(c.ok());
        auto r = c->call(method, params, 5s);
        REQUIRE(r.ok());
        return *r;
    }
};

} // namespace

TEST_CASE("root creates, lists, writes and removes a device over the socket") {
    Daemon d(0);
    auto created = d.call("io.trueno.zram.CreateDevice", {{"size", 1 << 20}, {"algorithm", "lz4"}});
    REQUIRE_FALSE(created.is_error());
    CHECK(created.parameters["name"] == "/dev/ublkb0");
    auto list = d.call("io.trueno.zram.ListDevices");
    REQUIRE(list.parameters["devices"].size() == 1);
    CHECK_FALSE(d.call("io.trueno.zram.SetAttribute", {{"id", 0}, {"name", "compact"}, {"value", "1"}}).is_error());
    CHECK_FALSE(d.call("io.trueno.zram.RemoveDevice", {{"id", 0}}).is_error());
    CHECK(d.call("io.trueno.zram.ListDevices").parameters["devices"].empty());
}

TEST_CASE("a non-root peer is refused changes over the socket, by its SO_PEERCRED identity") {
    Daemon d(1000);
    auto r = d.call("io.trueno.zram.CreateDevice", {{"size", 1 << 20}});
    REQUIRE(r.is_error());
    CHECK(*r.error == "io.trueno.zram.PermissionDenied");
    CHECK(d.devices.devices.empty());
    CHECK_FALSE(d.call("io.trueno.zram.ListDevices").is_error());
}

TEST_CASE("the real peer uid decides: this test process's own uid") {
    testing::TempDir dir;
    testing::FakeDeviceManager devices;
    ZramControl control(devices, {});
    varlink::Server server(varlink::ServiceInfo{"v", "p", "1", "u"});
    register_zram_control(server, control);
    auto fd = varlink::listen_unix(dir / "s");
    REQUIRE(fd.ok());
    REQUIRE(server.start(std::move(*fd)).ok());
    auto c = varlink::Client::connect(dir / "s", 2s);
    REQUIRE(c.ok());
    auto r = c->call("io.trueno.zram.CreateDevice", {{"size", 4096}}, 5s);
    REQUIRE(r.ok());
    if (::getuid() == 0) CHECK_FALSE(r->is_error());
    else CHECK(*r->error == "io.trueno.zram.PermissionDenied");
}

TEST_CASE("the interface is described and listed over the socket") {
    Daemon d(0);
    auto info = d.call("org.varlink.service.GetInfo");
    CHECK(info.parameters["interfaces"] == Json::array({"io.trueno.zram", "org.varlink.service"}));
    CHECK(info.parameters["product"] == "trueno-zramd");
    auto desc = d.call("org.varlink.service.GetInterfaceDescription", {{"interface", "io.trueno.zram"}});
    CHECK(desc.parameters["description"] == std::string(zram_interface_description()));
    auto unknown = d.call("io.trueno.zram.Format");
    CHECK(*unknown.error == "org.varlink.service.MethodNotFound");
}
