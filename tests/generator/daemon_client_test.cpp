// The generator's daemon client over a varlink socket: the messages its --setup-device and
// --reset-device print for each way a call can fail.
#include <catch2/catch.hpp>

#include <cerrno>

#include "daemon_client.hpp"
#include "temp_dir.hpp"
#include "trueno/varlink/server.hpp"
#include "trueno/varlink/socket.hpp"

namespace gen = trueno::generator;
using trueno::varlink::CallContext;
using trueno::varlink::Json;
using trueno::varlink::Reply;

namespace {

struct RefusingDaemon {
    trueno::testing::TempDir dir;
    std::string path = dir / "io.trueno.zram";
    trueno::varlink::Server server{
        trueno::varlink::ServiceInfo{"test", "refusing trueno-zramd", "0", ""}};

    RefusingDaemon() {
        trueno::varlink::MethodTable m;
        m["RemoveDevice"] = [](const CallContext&) {
            return Reply::failure("io.trueno.zram.DeviceBusy",
                                  {{"id", 0}, {"reason", "active swap"}});
        };
        m["SetAttribute"] = [](const CallContext&) {
            return Reply::failure(
                "io.trueno.zram.InvalidArgument",
                {{"name", "recomp_algorithm"}, {"reason", "unknown algorithm"}, {"errno", EINVAL}});
        };
        m["CreateDevice"] = [](const CallContext&) {
            return Reply::failure("io.trueno.zram.PermissionDenied", {{"method", "CreateDevice"}});
        };
        m["ListDevices"] = [](const CallContext&) {
            return Reply::ok({{"devices", "none"}});
        };
        m["GetDaemonInfo"] = [](const CallContext&) {
            return Reply::ok({{"version", "0"},
                              {"algorithms", {"lz4", "zstd"}},
                              {"ublk_features", 0},
                              {"user_copy", false}});
        };
        server.add_interface("io.trueno.zram", "interface io.trueno.zram\n", std::move(m));
        auto fd = trueno::varlink::listen_unix(path);
        REQUIRE(fd.ok());
        REQUIRE(server.start(std::move(*fd)).ok());
    }
};

} // namespace

TEST_CASE("daemon client: refusals name the method, the error and the reason", "[daemon-client]") {
    RefusingDaemon daemon;
    auto client = gen::DaemonClient::connect(daemon.path);
    REQUIRE(client.ok());

    auto busy = (*client)->remove_device(0);
    REQUIRE_FALSE(busy.ok());
    CHECK(busy.error().code == EBUSY);
    CHECK(busy.error().message == "RemoveDevice: DeviceBusy: active swap");

    auto invalid = (*client)->set_attribute(0, "recomp_algorithm", "algo=nope");
    REQUIRE_FALSE(invalid.ok());
    CHECK(invalid.error().code == EINVAL);
    CHECK(invalid.error().message ==
          "SetAttribute: InvalidArgument (recomp_algorithm): unknown algorithm");

    gen::CreateDeviceRequest request;
    request.size = 4096;
    auto denied = (*client)->create_device(request);
    REQUIRE_FALSE(denied.ok());
    CHECK(denied.error().code == EACCES);
    CHECK(denied.error().message == "CreateDevice: PermissionDenied");

    auto listed = (*client)->list_devices();
    REQUIRE_FALSE(listed.ok());
    CHECK(listed.error().code == EPROTO);
    CHECK(listed.error().message.starts_with("ListDevices: unexpected reply: "));

    auto algorithms = (*client)->algorithms();
    REQUIRE(algorithms.ok());
    CHECK(*algorithms == std::vector<std::string>{"lz4", "zstd"});
}

TEST_CASE("daemon client: no daemon is an error naming the socket", "[daemon-client]") {
    trueno::testing::TempDir dir;
    const auto path = dir / "absent.sock";
    auto client = gen::DaemonClient::connect(path);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().code == ENOENT);
    CHECK(client.error().message.starts_with("cannot reach trueno-zramd at " + path + ": "));
}
