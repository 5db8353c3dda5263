// io.trueno.zram handlers against a fake DeviceManager: parameters, permissions, error mapping.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "control/interface_description.hpp"
#include "control/zram_control.hpp"
#include "fake_device_manager.hpp"

using namespace trueno;
using namespace trueno::service;
using trueno::testing::FakeDeviceManager;
using varlink::Json;
using varlink::Reply;

namespace {

constexpr varlink::PeerCredentials root{100, 0, 0};
constexpr varlink::PeerCredentials user{200, 1000, 1000};

struct Fixture {
    FakeDeviceManager devices;
    ZramControl control{devices, DaemonInfo{"0.1.0", {"lzo", "lz4", "zstd"}, 0x42, true}};

    Reply call(const std::string& method, Json params = Json::object(), varlink::PeerCredentials peer = root) {
        varlink::Call c;
        c.method = "io.trueno.zram." + method;
        c.parameters = std::move(params);
        auto table = control.methods();
        REQUIRE(table.contains(method));
        return table.at(method)(varlink::CallContext{c, peer});
    }
};

void require_error(const Reply& r, const std::string& name) {
    INFO(varlink::to_json(r).dump());
    REQUIRE(r.is_error());
    CHECK(*r.error == name);
}

} // namespace

TEST_CASE("the embedded interface text is the .varlink file, byte for byte") {
    std::ifstream file(ZRAM_VARLINK_FILE);
    REQUIRE(file);
    std::stringstream text;
    text << file.rdbuf();
    CHECK(text.str() == zram_interface_description());
}

TEST_CASE("every method of the interface has a handler, and no more") {
    const std::string text(zram_interface_description());
    std::set<std::string> declared;
    const std::regex method_re(R"(^method (\w+)\()", std::regex::multiline);
    for (std::sregex_iterator it(text.begin(), text.end(), method_re), end; it != end; ++it) declared.insert((*it)[1]);
    FakeDeviceManager devices;
    ZramControl control(devices, {});
    std::set<std::string> handled;
    for (const auto& [name, _] : control.methods()) handled.insert(name);
    CHECK(declared == handled);
    CHECK(declared.size() == 6);
}

TEST_CASE("every error the handlers produce is declared in the interface") {
    const std::string text(zram_interface_description());
    for (const char* e : {"NoSuchDevice", "DeviceExists", "DeviceBusy", "InvalidArgument", "PermissionDenied", "SystemError"})
        CHECK(text.find(std::string("error ") + e + " (") != std::string::npos);
}

TEST_CASE("CreateDevice passes a full spec and returns id and name") {
    Fixture f;
    auto r = f.call("CreateDevice", {{"size", 1 << 30}, {"algorithm", "zstd"}, {"params", "level=3"},
                                     {"mem_limit", 1 << 20}, {"id", 7}, {"streams", 2}});
    REQUIRE_FALSE(r.is_error());
    CHECK(r.parameters == Json{{"id", 7}, {"name", "/dev/ublkb7"}});
    REQUIRE(f.devices.created.size() == 1);
    const auto& spec = f.devices.created[0];
    CHECK(spec.size == (1u << 30));
    CHECK(spec.algorithm == "zstd");
    CHECK(spec.params == "level=3");
    CHECK(spec.mem_limit == (1u << 20));
    CHECK(spec.id == 7);
    CHECK(spec.streams == 2);
}

TEST_CASE("CreateDevice defaults: only size given, nulls are absent") {
    Fixture f;
    auto r = f.call("CreateDevice", {{"size", 4096}, {"algorithm", nullptr}, {"id", nullptr}});
    REQUIRE_FALSE(r.is_error());
    const auto& spec = f.devices.created.at(0);
    CHECK(spec.algorithm.empty());
    CHECK(spec.id == -1);
    CHECK(spec.streams == 0);
    CHECK(spec.mem_limit == 0);
}

TEST_CASE("CreateDevice refuses bad parameters before touching the devices") {
    Fixture f;
    struct Case {
        Json params;
        const char* error;
        const char* field;
    };
    const Case cases[] = {
        {Json::object(), "org.varlink.service.InvalidParameter", "size"},
        {{{"size", "1G"}}, "org.varlink.service.InvalidParameter", "size"},
        {{{"size", 1.5}}, "org.varlink.service.InvalidParameter", "size"},
        {{{"size", true}}, "org.varlink.service.InvalidParameter", "size"},
        {{{"size", 4096}, {"algorithm", 3}}, "org.varlink.service.InvalidParameter", "algorithm"},
        {{{"size", 4096}, {"params", Json::array()}}, "org.varlink.service.InvalidParameter", "params"},
        {{{"size", 4096}, {"sise", 1}}, "org.varlink.service.InvalidParameter", "sise"},
        {{{"size", 4096}, {"id", "0"}}, "org.varlink.service.InvalidParameter", "id"},
    };
    for (const auto& c : cases) {
        INFO(c.params.dump());
        auto r = f.call("CreateDevice", c.params);
        require_error(r, c.error);
        CHECK(r.parameters["parameter"] == c.field);
    }
    const std::pair<Json, const char*> values[] = {
        {{{"size", 0}}, "size"},
        {{{"size", -4096}}, "size"},
        {{{"size", 4096}, {"mem_limit", -1}}, "mem_limit"},
        {{{"size", 4096}, {"id", -2}}, "id"},
        {{{"size", 4096}, {"id", 1LL << 40}}, "id"},
        {{{"size", 4096}, {"streams", -1}}, "streams"},
        {{{"size", 4096}, {"streams", 100000}}, "streams"},
        {{{"size", 18446744073709551615ULL}}, "size"},
    };
    for (const auto& [params, field] : values) {
        INFO(params.dump());
        auto r = f.call("CreateDevice", params);
        require_error(r, "io.trueno.zram.InvalidArgument");
        CHECK(r.parameters["name"] == field);
        CHECK(r.parameters["errno"].get<int>() > 0);
        CHECK_FALSE(r.parameters["reason"].get<std::string>().empty());
    }
    CHECK(f.devices.created.empty());
}

TEST_CASE("device manager errors become the interface's errors") {
    Fixture f;
    SECTION("EINVAL from the manager: InvalidArgument with its message") {
        f.devices.fail_next = make_error(EINVAL, "unknown compression algorithm 'foo'; available: lz4 zstd");
        auto r = f.call("CreateDevice", {{"size", 4096}, {"algorithm", "foo"}});
        require_error(r, "io.trueno.zram.InvalidArgument");
        CHECK(r.parameters["errno"] == EINVAL);
        CHECK(r.parameters["reason"] == "unknown compression algorithm 'foo'; available: lz4 zstd");
    }
    SECTION("EEXIST: DeviceExists with the id asked for") {
        REQUIRE_FALSE(f.call("CreateDevice", {{"size", 4096}, {"id", 3}}).is_error());
        auto r = f.call("CreateDevice", {{"size", 4096}, {"id", 3}});
        require_error(r, "io.trueno.zram.DeviceExists");
        CHECK(r.parameters["id"] == 3);
    }
    SECTION("ENOMEM and others: SystemError with errno and operation") {
        f.devices.fail_next = make_error(ENOMEM, "cannot allocate the slot table");
        auto r = f.call("CreateDevice", {{"size", 4096}});
        require_error(r, "io.trueno.zram.SystemError");
        CHECK(r.parameters["errno"] == ENOMEM);
        CHECK(r.parameters["operation"] == "io.trueno.zram.CreateDevice");
        CHECK(r.parameters["reason"] == "cannot allocate the slot table");
    }
    SECTION("EBUSY on remove: DeviceBusy with the reason") {
        REQUIRE_FALSE(f.call("CreateDevice", {{"size", 4096}}).is_error());
        f.devices.fail_next = make_error(EBUSY, "/dev/ublkb0 is active swap");
        auto r = f.call("RemoveDevice", {{"id", 0}});
        require_error(r, "io.trueno.zram.DeviceBusy");
        CHECK(r.parameters == Json{{"id", 0}, {"reason", "/dev/ublkb0 is active swap"}});
    }
    SECTION("EPERM: PermissionDenied") {
        f.devices.fail_next = make_error(EPERM, "the kernel refused");
        auto r = f.call("CreateDevice", {{"size", 4096}});
        require_error(r, "io.trueno.zram.PermissionDenied");
    }
    SECTION("a throwing manager: SystemError, not a crash") {
        f.devices.throw_next = true;
        auto r = f.call("CreateDevice", {{"size", 4096}});
        require_error(r, "io.trueno.zram.SystemError");
        CHECK(r.parameters["reason"] == "device manager exploded");
        f.devices.throw_next = true;
        require_error(f.call("ListDevices"), "io.trueno.zram.SystemError");
    }
}

TEST_CASE("RemoveDevice, GetAttributes: id checks and NoSuchDevice") {
    Fixture f;
    REQUIRE_FALSE(f.call("CreateDevice", {{"size", 8192}}).is_error());
    auto attrs = f.call("GetAttributes", {{"id", 0}});
    REQUIRE_FALSE(attrs.is_error());
    CHECK(attrs.parameters["attributes"]["disksize"] == "8192");
    require_error(f.call("GetAttributes", {{"id", 9}}), "io.trueno.zram.NoSuchDevice");
    CHECK(f.call("GetAttributes", {{"id", 9}}).parameters["id"] == 9);
    require_error(f.call("GetAttributes"), "org.varlink.service.InvalidParameter");
    require_error(f.call("GetAttributes", {{"id", "0"}}), "org.varlink.service.InvalidParameter");
    require_error(f.call("GetAttributes", {{"id", -1}}), "io.trueno.zram.InvalidArgument");
    require_error(f.call("RemoveDevice", {{"id", 5}}), "io.trueno.zram.NoSuchDevice");
    REQUIRE_FALSE(f.call("RemoveDevice", {{"id", 0}}).is_error());
    CHECK(f.devices.devices.empty());
}

TEST_CASE("ListDevices lists every device with its attributes") {
    Fixture f;
    CHECK(f.call("ListDevices").parameters == Json{{"devices", Json::array()}});
    REQUIRE_FALSE(f.call("CreateDevice", {{"size", 4096}}).is_error());
    REQUIRE_FALSE(f.call("CreateDevice", {{"size", 8192}, {"id", 4}}).is_error());
    auto r = f.call("ListDevices");
    REQUIRE_FALSE(r.is_error());
    const auto& d = r.parameters["devices"];
    REQUIRE(d.size() == 2);
    CHECK(d[0]["id"] == 0);
    CHECK(d[0]["name"] == "/dev/ublkb0");
    CHECK(d[1]["id"] == 4);
    CHECK(d[1]["attributes"]["disksize"] == "8192");
    require_error(f.call("ListDevices", {{"all", true}}), "org.varlink.service.InvalidParameter");
}

TEST_CASE("SetAttribute passes name and value; errors name the attribute") {
    Fixture f;
    REQUIRE_FALSE(f.call("CreateDevice", {{"size", 4096}}).is_error());
    REQUIRE_FALSE(f.call("SetAttribute", {{"id", 0}, {"name", "mem_limit"}, {"value", "1G"}}).is_error());
    REQUIRE(f.devices.writes.size() == 1);
    CHECK(f.devices.writes[0] == std::make_tuple(0, std::string("mem_limit"), std::string("1G")));

    f.devices.fail_next = make_error(EBUSY, "comp_algorithm cannot change once initialised");
    require_error(f.call("SetAttribute", {{"id", 0}, {"name", "comp_algorithm"}, {"value", "zstd"}}),
                  "io.trueno.zram.DeviceBusy");
    f.devices.fail_next = make_error(ENOENT, "no attribute 'nope'");
    auto r = f.call("SetAttribute", {{"id", 0}, {"name", "nope"}, {"value", "1"}});
    require_error(r, "io.trueno.zram.InvalidArgument");
    CHECK(r.parameters["name"] == "nope");
    CHECK(r.parameters["errno"] == ENOENT);

    require_error(f.call("SetAttribute", {{"id", 0}, {"name", "mem_limit"}}), "org.varlink.service.InvalidParameter");
    require_error(f.call("SetAttribute", {{"id", 0}, {"name", ""}, {"value", "1"}}), "org.varlink.service.InvalidParameter");
    require_error(f.call("SetAttribute", {{"id", 0}, {"name", "x"}, {"value", 1}}), "org.varlink.service.InvalidParameter");
    require_error(f.call("SetAttribute", {{"id", 3}, {"name", "compact"}, {"value", "1"}}), "io.trueno.zram.NoSuchDevice");
}

// Found by the VM test hostile-clients: "reset" with any value removed the device and its data,
// where the kernel's reset_store refuses all but a nonzero number.
TEST_CASE("SetAttribute reset removes the device only for a value the kernel takes") {
    Fixture f;
    REQUIRE_FALSE(f.call("CreateDevice", {{"size", 4096}}).is_error());
    for (const char* value : {"0", "abc", "", " 1", "1 2", "-1", "0x1", "1.0", "65536", "0\n"}) {
        INFO(value);
        auto r = f.call("SetAttribute", {{"id", 0}, {"name", "reset"}, {"value", value}});
        require_error(r, "io.trueno.zram.InvalidArgument");
        CHECK(r.parameters["name"] == "reset");
        REQUIRE(f.devices.devices.contains(0));
    }
    CHECK_FALSE(f.call("SetAttribute", {{"id", 0}, {"name", "reset"}, {"value", "1\n"}}).is_error());
    CHECK_FALSE(f.devices.devices.contains(0));
    REQUIRE_FALSE(f.call("CreateDevice", {{"size", 4096}}).is_error());
    CHECK_FALSE(f.call("SetAttribute", {{"id", 0}, {"name", "reset"}, {"value", "65535"}}).is_error());
    CHECK(f.devices.devices.empty());
}

TEST_CASE("only root may change state; anyone may read") {
    Fixture f;
    REQUIRE_FALSE(f.call("CreateDevice", {{"size", 4096}}).is_error());
    for (const char* m : {"CreateDevice", "RemoveDevice", "SetAttribute"}) {
        INFO(m);
        // Even malformed parameters get PermissionDenied: nothing is revealed to non-root.
        auto r = f.call(m, {{"id", 0}, {"size", 4096}, {"name", "compact"}, {"value", "1"}}, user);
        require_error(r, "io.trueno.zram.PermissionDenied");
        CHECK(r.parameters["method"] == std::string("io.trueno.zram.") + m);
    }
    CHECK(f.devices.devices.size() == 1);
    CHECK(f.devices.writes.empty());
    CHECK_FALSE(f.call("ListDevices", {}, user).is_error());
    CHECK_FALSE(f.call("GetAttributes", {{"id", 0}}, user).is_error());
    CHECK_FALSE(f.call("GetDaemonInfo", {}, user).is_error());
}

TEST_CASE("GetDaemonInfo reports what the daemon was given") {
    Fixture f;
    auto r = f.call("GetDaemonInfo");
    REQUIRE_FALSE(r.is_error());
    CHECK(r.parameters == Json{{"version", "0.1.0"}, {"algorithms", {"lzo", "lz4", "zstd"}}, {"ublk_features", 0x42}, {"user_copy", true}});
}
