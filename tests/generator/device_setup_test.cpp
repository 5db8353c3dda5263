#include <catch2/catch.hpp>

#include <sstream>

#include "config.hpp"
#include "device_setup.hpp"

namespace gen = trueno::generator;

namespace {

// Behaves as trueno-zramd's varlink API does, recording what it was asked.
class FakeDaemon final : public gen::Daemon {
public:
    std::vector<std::string> available{"lzo", "lzo-rle", "lz4", "lz4hc", "zstd", "deflate"};
    std::map<int, gen::Device> devices;
    std::vector<gen::CreateDeviceRequest> created;
    std::vector<std::string> set_calls; // "id name=value"
    std::vector<int> removed;
    bool refuse_recomp = false;
    bool busy = false;

    trueno::Result<std::vector<std::string>> algorithms() override { return available; }
    trueno::Result<std::vector<gen::Device>> list_devices() override
    {
        std::vector<gen::Device> out;
        for (const auto& [id, d] : devices) out.push_back(d);
        return out;
    }
    trueno::Result<int> create_device(const gen::CreateDeviceRequest& r) override
    {
        const int id = r.id.value_or(-1);
        if (devices.contains(id)) return trueno::make_error(EEXIST, "id taken");
        created.push_back(r);
        gen::Device d{id, "/dev/ublkb" + std::to_string(id), {}};
        d.attributes["disksize"] = std::to_string(r.size);
        d.attributes["comp_algorithm"] = "lzo [" + r.algorithm.value_or("lzo-rle") + "]";
        devices[id] = d;
        return id;
    }
    trueno::Status set_attribute(int id, const std::string& name, const std::string& value) override
    {
        set_calls.push_back(std::to_string(id) + " " + name + "=" + value);
        if (refuse_recomp && name == "recomp_algorithm") return trueno::make_error(EBUSY, "DeviceBusy: initialised");
        return {};
    }
    trueno::Status remove_device(int id) override
    {
        if (busy) return trueno::make_error(EBUSY, "DeviceBusy: active swap");
        if (!devices.erase(id)) return trueno::make_error(ENODEV, "NoSuchDevice");
        removed.push_back(id);
        return {};
    }
};

class FakeTools final : public gen::BlockTools {
public:
    bool active = false;
    bool signature = false;
    bool mkfs_fails = false;
    std::vector<std::string> formatted;

    trueno::Status wait_for_node(const std::string&) override { return {}; }
    bool is_active(const std::string&) override { return active; }
    bool has_signature(const std::string&, const std::string&) override { return signature; }
    trueno::Status make_filesystem(const std::string& path, const std::string& fs_type) override
    {
        if (mkfs_fails) return trueno::make_error(EIO, "mkswap failed (exit status 1)");
        formatted.push_back(fs_type + " " + path);
        return {};
    }
};

gen::DeviceConfig device(const std::string& text)
{
    auto c = gen::build_config({{"/etc/trueno-zram.conf", text}}, 8192, {});
    REQUIRE(c.devices.size() == 1);
    return c.devices.begin()->second;
}

} // namespace

TEST_CASE("setup creates the device as configured and formats it", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    std::ostringstream log;
    auto d = device("[zram2]\nzram-size = 100M + 1K\nzram-resident-limit = 50\n"
                    "compression-algorithm = zstd(level=3) lz4hc(level=9) deflate (type=idle)\n"
                    "writeback-device = /dev/vdb\nwriteback-age = 1d\n");
    auto s = gen::setup_device(d, daemon, tools, log);
    INFO(log.str() << (s ? "" : s.error().message));
    REQUIRE(s.ok());
    REQUIRE(daemon.created.size() == 1);
    const auto& r = daemon.created[0];
    CHECK(r.id == 2);
    CHECK(r.size == 100 * 1024 * 1024 + 4096); // rounded up to a page
    CHECK(r.mem_limit == 50 * 1024 * 1024);
    CHECK(r.algorithm == "zstd");
    CHECK(r.params == "level=3");
    CHECK(daemon.set_calls == std::vector<std::string>{"2 recomp_algorithm=algo=lz4hc priority=1",
                                                       "2 algorithm_params=priority=1 level=9",
                                                       "2 recomp_algorithm=algo=deflate priority=2",
                                                       "2 backing_dev=/dev/vdb",
                                                       "2 writeback_policy=on age=86400"});
    CHECK(tools.formatted == std::vector<std::string>{"swap /dev/ublkb2"});
}

TEST_CASE("a mount-point device is formatted with its fs-type", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    std::ostringstream log;
    REQUIRE(gen::setup_device(device("[zram1]\nmount-point = /var/tmp\n"), daemon, tools, log).ok());
    REQUIRE(gen::setup_device(device("[zram3]\nmount-point = /srv\nfs-type = ext4\n"), daemon, tools, log).ok());
    CHECK(tools.formatted == std::vector<std::string>{"ext2 /dev/ublkb1", "ext4 /dev/ublkb3"});
}

TEST_CASE("an unknown algorithm is refused naming the available ones", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    std::ostringstream log;
    auto s = gen::setup_device(device("[zram0]\ncompression-algorithm = zstd lzma\n"), daemon, tools, log);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error().message, Catch::Contains("unknown compression algorithm 'lzma'"));
    CHECK_THAT(s.error().message, Catch::Contains("lzo lzo-rle lz4 lz4hc zstd deflate"));
    CHECK(daemon.created.empty());
}

TEST_CASE("re-running setup accepts an existing device of the same size", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    std::ostringstream log;
    auto d = device("[zram0]\nzram-size = 64\ncompression-algorithm = zstd\n");
    REQUIRE(gen::setup_device(d, daemon, tools, log).ok());
    REQUIRE(tools.formatted.size() == 1);

    SECTION("in use: left alone")
    {
        tools.active = true;
        REQUIRE(gen::setup_device(d, daemon, tools, log).ok());
        CHECK(tools.formatted.size() == 1);
        CHECK_THAT(log.str(), Catch::Contains("in use, leaving it as it is"));
    }
    SECTION("already formatted: not formatted again")
    {
        tools.signature = true;
        REQUIRE(gen::setup_device(d, daemon, tools, log).ok());
        CHECK(tools.formatted.size() == 1);
    }
    SECTION("a different algorithm is reported")
    {
        tools.active = true;
        auto other = device("[zram0]\nzram-size = 64\ncompression-algorithm = lz4\n");
        REQUIRE(gen::setup_device(other, daemon, tools, log).ok());
        CHECK_THAT(log.str(), Catch::Contains("it uses zstd, the configuration says lz4"));
    }
    CHECK(daemon.created.size() == 1);
}

TEST_CASE("an existing device of another size is a clear error", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    std::ostringstream log;
    REQUIRE(gen::setup_device(device("[zram0]\nzram-size = 64\n"), daemon, tools, log).ok());
    auto s = gen::setup_device(device("[zram0]\nzram-size = 128\n"), daemon, tools, log);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == EEXIST);
    CHECK_THAT(s.error().message, Catch::Contains("already exists with disksize 67108864"));
    CHECK_THAT(s.error().message, Catch::Contains("134217728"));
}

TEST_CASE("a failed mkswap removes the device it just made", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    tools.mkfs_fails = true;
    std::ostringstream log;
    auto s = gen::setup_device(device("[zram0]\nzram-size = 64\n"), daemon, tools, log);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.error().message, Catch::Contains("mkswap failed"));
    CHECK(daemon.devices.empty());
    CHECK(daemon.removed == std::vector<int>{0});
}

TEST_CASE("refused recompression settings are warnings, the swap still comes up", "[setup]")
{
    FakeDaemon daemon;
    daemon.refuse_recomp = true;
    FakeTools tools;
    std::ostringstream log;
    REQUIRE(gen::setup_device(device("[zram0]\ncompression-algorithm = lz4 zstd\n"), daemon, tools, log).ok());
    CHECK_THAT(log.str(), Catch::Contains("warning: recomp_algorithm \"algo=zstd priority=1\" refused"));
    CHECK(tools.formatted.size() == 1);
}

TEST_CASE("a recompression policy is sent as recompress_policy with only the keys given", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    std::ostringstream log;
    REQUIRE(gen::setup_device(device("[zram0]\nrecompress-policy = strong\nrecompress-idle-age = 2h\n"
                                     "recompress-cpu = 5%\n"),
                              daemon, tools, log)
                .ok());
    CHECK(daemon.set_calls == std::vector<std::string>{"0 recompress_policy=strong age=7200 cpu=5"});
}

TEST_CASE("reset removes the device; a missing one is fine; busy is an error", "[setup]")
{
    FakeDaemon daemon;
    FakeTools tools;
    std::ostringstream log;
    REQUIRE(gen::setup_device(device("[zram4]\n"), daemon, tools, log).ok());
    daemon.busy = true;
    auto s = gen::reset_device(4, daemon, log);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == EBUSY);
    daemon.busy = false;
    REQUIRE(gen::reset_device(4, daemon, log).ok());
    CHECK(daemon.devices.empty());
    REQUIRE(gen::reset_device(4, daemon, log).ok());
    CHECK_THAT(log.str(), Catch::Contains("not present, nothing to reset"));
}

TEST_CASE("device names", "[setup]")
{
    CHECK(gen::parse_device_name("ublkb0").value() == 0);
    CHECK(gen::parse_device_name("/dev/ublkb12").value() == 12);
    CHECK_FALSE(gen::parse_device_name("zram0").ok());
    CHECK_FALSE(gen::parse_device_name("ublkb").ok());
    CHECK_FALSE(gen::parse_device_name("ublkb1x").ok());
    CHECK_FALSE(gen::parse_device_name("ublkb-1").ok());
}
