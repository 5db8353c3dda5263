// io.trueno.zram over a socket with real attributes: compact and idle run on the device's worker
// and answer when done, while the daemon's one control thread serves every other call.
#include "control/zram_control.hpp"
#include "in_process_devices.hpp"
#include "temp_dir.hpp"
#include "trueno/varlink/client.hpp"
#include "trueno/varlink/server.hpp"

#include <catch2/catch.hpp>
#include <optional>
#include <thread>

using namespace trueno;
using namespace trueno::service;
using namespace std::chrono_literals;
using varlink::Json;

namespace {

struct LiveDaemon {
    testing::TempDir dir;
    std::string path = dir / "io.trueno.zram";
    testing::InProcessDevices devices;
    ZramControl control{devices, DaemonInfo{"0.1.0", {"lz4"}, 0, false}};
    varlink::Server server;

    LiveDaemon()
        : server(varlink::ServiceInfo{"trueno-zram", "trueno-zramd", "0.1.0",
                                      "https://example.invalid"},
                 {}, [](int fd) -> Result<varlink::PeerCredentials> {
                     auto real = varlink::peer_credentials(fd);
                     if (real)
                         real->uid = 0; // root: may change state
                     return real;
                 }) {
        register_zram_control(server, control);
        auto fd = varlink::listen_unix(path);
        REQUIRE(fd.ok());
        REQUIRE(server.start(std::move(*fd)).ok());
    }

    // A call on a connection of its own. The timeout only bounds a failing test: nothing here
    // waits for it to pass.
    varlink::Reply call(const std::string& method, const Json& params = Json::object()) {
        auto c = varlink::Client::connect(path, 2s);
        REQUIRE(c.ok());
        auto r = c->call(method, params, 10s);
        INFO(method << ": " << (r.ok() ? "" : r.error().message));
        REQUIRE(r.ok());
        return *r;
    }
};

// A call on a thread of its own, for one the test expects to wait.
struct Pending {
    std::optional<Result<varlink::Reply>> reply;
    std::thread thread;

    Pending(const std::string& path, std::string method, Json params)
        : thread([this, path, method = std::move(method), params = std::move(params)] {
              auto c = varlink::Client::connect(path, 2s);
              if (!c) {
                  reply.emplace(c.error());
                  return;
              }
              reply.emplace(c->call(method, params, 30s));
          }) {}
    ~Pending() {
        if (thread.joinable())
            thread.join();
    }
    // Waits for the reply; its error name, or "" for success.
    std::string result() {
        thread.join();
        REQUIRE(reply.has_value());
        INFO((reply->ok() ? "" : reply->error().message));
        REQUIRE(reply->ok());
        return (*reply)->error.value_or("");
    }
};

Json set(int id, const char* name, const char* value) {
    return {{"id", id}, {"name", name}, {"value", value}};
}

} // namespace

TEST_CASE("while a device compacts, the control thread answers every other call") {
    LiveDaemon d;
    auto gate = std::make_shared<testing::Gate>();
    testing::GateOpener opener{gate};
    d.devices.compact_gate = gate;
    REQUIRE_FALSE(d.call("io.trueno.zram.CreateDevice", {{"size", 1 << 20}}).is_error());

    Pending compact(d.path, "io.trueno.zram.SetAttribute", set(0, "compact", "1"));
    REQUIRE(gate->wait_reached()); // the compaction runs, held in the gate until the end

    auto list = d.call("io.trueno.zram.ListDevices");
    REQUIRE(list.parameters["devices"].size() == 1);
    CHECK(list.parameters["devices"][0]["attributes"].contains("mm_stat"));
    CHECK_FALSE(d.call("io.trueno.zram.GetAttributes", {{"id", 0}}).is_error());
    CHECK_FALSE(d.call("io.trueno.zram.SetAttribute", set(0, "mem_limit", "1M")).is_error());
    CHECK_FALSE(d.call("io.trueno.zram.GetDaemonInfo").is_error());
    // A second device can be made and written meanwhile, on the same control thread.
    REQUIRE_FALSE(d.call("io.trueno.zram.CreateDevice", {{"size", 1 << 20}, {"id", 1}}).is_error());
    CHECK_FALSE(d.call("io.trueno.zram.SetAttribute", set(1, "idle", "all")).is_error());
    CHECK_FALSE(d.devices.finished.has("compact"));

    gate->open();
    CHECK(compact.result() == ""); // answered once compaction was over, as the kernel's write
    CHECK(d.devices.finished.wait("compact") == 0);
}

TEST_CASE("removing a device while it compacts: the compaction finishes, queued writes fail, the "
          "device goes") {
    LiveDaemon d;
    auto gate = std::make_shared<testing::Gate>();
    testing::GateOpener opener{gate};
    d.devices.compact_gate = gate;
    REQUIRE_FALSE(d.call("io.trueno.zram.CreateDevice", {{"size", 1 << 20}}).is_error());

    Pending compact(d.path, "io.trueno.zram.SetAttribute", set(0, "compact", "1"));
    REQUIRE(gate->wait_reached());
    Pending idle(d.path, "io.trueno.zram.SetAttribute", set(0, "idle", "all"));
    REQUIRE(d.devices.accepted.wait("idle") == 0); // queued behind the compaction
    Pending remove(d.path, "io.trueno.zram.RemoveDevice", {{"id", 0}});
    // The removal cancels the queued write first, then waits for the running compaction.
    CHECK(d.devices.finished.wait("idle") == ENODEV);
    CHECK_FALSE(d.devices.finished.has("compact"));

    gate->open();
    CHECK(compact.result() == "");
    CHECK(idle.result() == "io.trueno.zram.NoSuchDevice");
    CHECK(remove.result() == "");
    CHECK(d.call("io.trueno.zram.ListDevices").parameters["devices"].empty());
    CHECK(d.call("io.trueno.zram.SetAttribute", set(0, "compact", "1")).error ==
          "io.trueno.zram.NoSuchDevice");
}
