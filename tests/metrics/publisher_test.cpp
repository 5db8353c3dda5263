// trueno-zramd's metrics file: the publisher writes the devices' attributes as Prometheus text,
// keeps going when a write fails (a missing directory), and writes again once it can.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../varlink/temp_dir.hpp"
#include "metrics_publisher.hpp"

using namespace trueno;
using namespace trueno::service;

namespace {

// Two devices with fixed attributes; everything else is refused.
class FixedDevices final : public DeviceManager {
public:
    Result<DeviceSummary> create(const DeviceSpec&) override { return make_error(EPERM, "fixed"); }
    Status remove(int) override { return make_error(EPERM, "fixed"); }
    std::vector<DeviceSummary> list() const override { return {{5, "/dev/ublkb5"}, {2, "/dev/ublkb2"}}; }
    Result<AttributeMap> read_attributes(int id) const override {
        return AttributeMap{{"mm_stat", std::to_string(id * 4096) + " 100 200 0 200 0 0 0 0"}};
    }
    Status write_attribute(int, const std::string&, const std::string&) override {
        return make_error(EPERM, "fixed");
    }
};

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

template <typename Predicate> bool eventually(Predicate done) {
    for (int i = 0; i < 500 && !done(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return done();
}

} // namespace

TEST_CASE("the publisher writes every device, sorted by id, at once and then every interval", "[publisher]") {
    trueno::testing::TempDir dir;
    FixedDevices devices;
    const auto file = dir.path() / "trueno-zram.prom";
    MetricsPublisher publisher(devices, file, std::chrono::seconds(1));
    REQUIRE(eventually([&] { return publisher.writes() >= 1; }));
    const auto text = read_file(file);
    CHECK(text.find("# TYPE trueno_zram_orig_data_bytes gauge\n"
                    "trueno_zram_orig_data_bytes{device=\"/dev/ublkb2\"} 8192\n"
                    "trueno_zram_orig_data_bytes{device=\"/dev/ublkb5\"} 20480\n") != std::string::npos);
    CHECK(text.find("# EOF") == std::string::npos); // Prometheus text for the textfile collector
    REQUIRE(eventually([&] { return publisher.writes() >= 2; }));
    publisher.stop();
    CHECK(publisher.failures() == 0);
}

TEST_CASE("a missing directory is counted and retried, not fatal; writes resume once it exists", "[publisher]") {
    trueno::testing::TempDir dir;
    FixedDevices devices;
    const auto file = dir.path() / "later" / "trueno-zram.prom";
    MetricsPublisher publisher(devices, file, std::chrono::seconds(1));
    REQUIRE(eventually([&] { return publisher.failures() >= 1; }));
    CHECK(publisher.writes() == 0);
    const auto direct = publisher.publish_once();
    REQUIRE_FALSE(direct.ok());
    CHECK(direct.error().code == ENOENT);
    std::filesystem::create_directory(dir.path() / "later");
    REQUIRE(eventually([&] { return publisher.writes() >= 1; }));
    CHECK(read_file(file).find("trueno_zram_orig_data_bytes{device=\"/dev/ublkb5\"} 20480\n") != std::string::npos);
}
