// --setup-device against the daemon's real attribute code (ZramAttributes over a real store):
// the recompression settings the generator sends from a config are accepted and take effect.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <sstream>

#include "config.hpp"
#include "device_setup.hpp"
#include "trueno/page_store.hpp"
#include "zram_attributes.hpp"

namespace gen = trueno::generator;

namespace {

// The daemon's side of CreateDevice and SetAttribute, without ublk or a socket.
class AttributesDaemon final : public gen::Daemon {
public:
    struct Device {
        std::shared_ptr<trueno::PageStore> store;
        std::unique_ptr<trueno::service::ZramAttributes> attributes;
    };
    std::map<int, Device> devices;

    trueno::Result<std::vector<std::string>> algorithms() override
    {
        std::vector<std::string> names;
        for (const auto& c : trueno::available_codecs()) names.emplace_back(c.name);
        return names;
    }
    trueno::Result<std::vector<gen::Device>> list_devices() override
    {
        std::vector<gen::Device> out;
        for (const auto& [id, d] : devices) {
            gen::Device dd{id, "/dev/ublkb" + std::to_string(id), {}};
            for (auto& [k, v] : d.attributes->read_all()) dd.attributes[k] = v;
            out.push_back(std::move(dd));
        }
        return out;
    }
    trueno::Result<int> create_device(const gen::CreateDeviceRequest& r) override
    {
        trueno::StoreConfig config;
        config.disksize = r.size;
        if (r.algorithm) config.algorithm = *r.algorithm;
        if (r.params) {
            auto params = trueno::parse_codec_params(*r.params);
            if (!params) return params.error();
            config.params = *params;
        }
        config.streams = 1;
        auto store = trueno::PageStore::create(config);
        if (!store) return store.error();
        Device d;
        d.store = std::shared_ptr<trueno::PageStore>(std::move(store.value()));
        d.attributes = std::make_unique<trueno::service::ZramAttributes>(d.store, config);
        devices[r.id.value_or(-1)] = std::move(d);
        return r.id.value_or(-1);
    }
    trueno::Status set_attribute(int id, const std::string& name, const std::string& value) override
    {
        return devices.at(id).attributes->write(name, value);
    }
    trueno::Status remove_device(int id) override
    {
        devices.erase(id);
        return {};
    }
};

class NoTools final : public gen::BlockTools {
public:
    trueno::Status wait_for_node(const std::string&) override { return {}; }
    bool is_active(const std::string&) override { return false; }
    bool has_signature(const std::string&, const std::string&) override { return false; }
    trueno::Status make_filesystem(const std::string&, const std::string&) override { return {}; }
};

} // namespace

TEST_CASE("recompression entries and the policy from the config are applied by the daemon's attributes", "[setup]")
{
    auto config = gen::build_config({{"/etc/trueno-zram.conf",
                                      "[zram0]\nzram-size = 16\n"
                                      "compression-algorithm = zstd(level=3) lz4hc(level=9) zstd(level=15) (type=idle)\n"
                                      "recompress-policy = strong\nrecompress-idle-age = 30min\nrecompress-rate = 100\n"}},
                                    8192, {});
    REQUIRE(config.devices.size() == 1);
    AttributesDaemon daemon;
    NoTools tools;
    std::ostringstream log;
    auto s = gen::setup_device(config.devices.at(0), daemon, tools, log);
    INFO(log.str() << (s ? "" : s.error().message));
    REQUIRE(s.ok());
    CHECK(log.str().find("warning") == std::string::npos);
    const auto& store = *daemon.devices.at(0).store;
    const auto algorithms = store.recomp_algorithms();
    REQUIRE(algorithms.size() == 3); // two from the config, the policy's at priority 3
    CHECK(algorithms[0].algorithm == "lz4hc");
    CHECK(algorithms[0].params.level == 9);
    CHECK(algorithms[1].algorithm == "zstd"); // the primary's name too: set by priority, not algo=
    CHECK(algorithms[1].params.level == 15);
    CHECK(algorithms[2].priority == 3);
    auto policy = daemon.devices.at(0).attributes->read("recompress_policy");
    REQUIRE(policy.ok());
    CHECK(policy->rfind("strong age=1800 interval=600 rate=100 cpu=10 priority=3", 0) == 0);
}

TEST_CASE("a recompression setting the daemon refuses is a warning naming the reason", "[setup]")
{
    // A dictionary file that is not there is only found out by the daemon.
    auto config = gen::build_config({{"/etc/trueno-zram.conf",
                                      "[zram0]\nzram-size = 16\ncompression-algorithm = lz4 zstd(dict=/nonexistent/trueno.dict)\n"}},
                                    8192, {});
    REQUIRE(config.devices.size() == 1);
    AttributesDaemon daemon;
    NoTools tools;
    std::ostringstream log;
    REQUIRE(gen::setup_device(config.devices.at(0), daemon, tools, log).ok());
    CHECK_THAT(log.str(), Catch::Contains("algorithm_params \"priority=1 dict=/nonexistent/trueno.dict\" refused"));
    CHECK_THAT(log.str(), Catch::Contains("cannot read dictionary"));
    // The algorithm itself is set; only its dictionary is missing.
    REQUIRE(daemon.devices.at(0).store->recomp_algorithms().size() == 1);
}
