#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "config.hpp"

namespace gen = trueno::generator;
namespace fs = std::filesystem;

namespace {
constexpr std::uint64_t MiB = 1024 * 1024;

gen::Config parse(const std::string& text, double ram = 8192, std::optional<bool> cmdline = {})
{
    return gen::build_config({{"/etc/trueno-zram.conf", text}}, ram, cmdline);
}

bool logged(const gen::Config& c, const std::string& needle)
{
    for (const auto& m : c.messages)
        if (m.find(needle) != std::string::npos) return true;
    return false;
}

// A scratch root removed at the end of the test.
struct TempRoot {
    fs::path path;
    TempRoot()
    {
        char tmpl[] = "/tmp/trueno-generator-test-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempRoot() { fs::remove_all(path); }
    void write(const std::string& rel, const std::string& text) const
    {
        fs::create_directories((path / rel).parent_path());
        std::ofstream(path / rel) << text;
    }
};
} // namespace

TEST_CASE("a section with no keys gets zram-generator's defaults", "[config]")
{
    auto c = parse("[zram0]\n", 8192);
    REQUIRE(c.devices.size() == 1);
    const auto& d = c.devices.at(0);
    CHECK(d.disksize_bytes == 4096 * MiB);
    CHECK(d.mem_limit_bytes == 0);
    CHECK(d.swap_priority == 100);
    CHECK(d.is_swap());
    CHECK(d.effective_options() == "discard");
    CHECK_FALSE(d.compression.primary);
    CHECK(d.device_name() == "ublkb0");
    CHECK(c.messages.empty());
}

TEST_CASE("every key is parsed", "[config]")
{
    auto c = parse("[zram3]\n"
                   "zram-size = 2G\n"
                   "zram-resident-limit = 512M\n"
                   "host-memory-limit = 16G\n"
                   "compression-algorithm = zstd(level=3,dict=/etc/d) lz4hc(level=9) (type=idle "
                   "threshold=100)\n"
                   "writeback-device = /dev/sdb1\n"
                   "swap-priority = -1\n"
                   "options = discard=pages\n"
                   "recompress-interval = 1h\n"
                   "recompress-idle-age = 30min\n"
                   "writeback-age = 2d\n"
                   "writeback-interval = 2h\n"
                   "writeback-budget = 512M\n");
    REQUIRE(c.devices.contains(3));
    const auto& d = c.devices.at(3);
    CHECK(d.disksize_bytes == 2048 * MiB);
    CHECK(d.mem_limit_bytes == 512 * MiB);
    REQUIRE(d.compression.primary);
    CHECK(d.compression.primary->name == "zstd");
    CHECK(d.compression.primary->params_text() == "level=3 dict=/etc/d");
    REQUIRE(d.compression.recompression.size() == 1);
    CHECK(d.compression.recompression[0].name == "lz4hc");
    CHECK(d.compression.recompression[0].params_text() == "level=9");
    REQUIRE(d.compression.global_params.size() == 2);
    CHECK(d.compression.global_params[1].first == "threshold");
    CHECK(d.writeback_device == "/dev/sdb1");
    CHECK(d.swap_priority == -1);
    CHECK(d.effective_options() == "discard=pages");
    CHECK(*d.recompress_interval_s == 3600);
    CHECK(*d.recompress_idle_age_s == 1800);
    CHECK(*d.writeback_age_s == 2 * 86400);
    CHECK(*d.writeback_interval_s == 7200);
    CHECK(*d.writeback_budget_bytes == 512 * MiB);
    CHECK(d.writeback_policy_value() == "on age=172800 interval=7200 budget=536870912");
    CHECK(c.messages.empty());
}

TEST_CASE("writeback policy keys: errors, and no policy without a writeback device", "[config]") {
    auto bad = parse(
        "[zram0]\nwriteback-device = /dev/vdb\nwriteback-budget = lots\nwriteback-age = soon\n"
        "writeback-interval = 0\n");
    CHECK(bad.messages.size() == 3);
    CHECK(!bad.devices.at(0).writeback_policy_value());
    auto no_device = parse("[zram0]\nwriteback-age = 1d\n");
    CHECK(!no_device.devices.at(0).writeback_policy_value());
    REQUIRE(no_device.messages.size() == 1);
    CHECK(no_device.messages[0].find("writeback-device is not") != std::string::npos);
    auto bare = parse("[zram0]\nwriteback-device = /dev/vdb\nwriteback-age = 12h\n");
    CHECK(bare.devices.at(0).writeback_policy_value() == "on age=43200");
}

TEST_CASE("recompression policy keys: the attribute text, no timer, bad values reported", "[config]")
{
    auto c = parse("[zram0]\n"
                   "recompress-policy = balanced\n"
                   "recompress-interval = 10min\n"
                   "recompress-idle-age = 1h\n"
                   "recompress-rate = 500\n"
                   "recompress-cpu = 20%\n"
                   "[zram1]\n"
                   "recompress-policy = fastest\n"
                   "recompress-rate = -3\n"
                   "recompress-cpu = 0\n"
                   "[zram2]\n"
                   "recompress-policy = strong\n"
                   "recompress-policy = off\n");
    REQUIRE(c.devices.size() == 3);
    CHECK(c.devices.at(0).recompress_policy_value() == "balanced age=3600 interval=600 rate=500 cpu=20");
    CHECK_FALSE(c.devices.at(1).recompress_policy_value());
    CHECK_FALSE(c.devices.at(2).recompress_policy_value());
    CHECK(logged(c, "[zram1] recompress-policy: bad value 'fastest'"));
    CHECK(logged(c, "[zram1] recompress-rate: bad value '-3'"));
    CHECK(logged(c, "[zram1] recompress-cpu: bad value '0'"));
    // With a policy, recompress-interval without a recompression algorithm is no mistake.
    for (const auto& m : c.messages) CHECK(m.find("[zram0]") == std::string::npos);
}

TEST_CASE("a bad value is reported with file, line and key and the rest still applies", "[config]")
{
    auto c = parse("[zram0]\nswap-priority = 7\nswap-priority = lots\nzram-size = 1G\n[zram1]\nswap-priority = x\n");
    REQUIRE(c.devices.size() == 2);
    CHECK(c.devices.at(0).swap_priority == 7); // the good earlier value stays
    CHECK(c.devices.at(0).disksize_bytes == 1024 * MiB);
    CHECK(c.devices.at(1).swap_priority == 100);
    CHECK(logged(c, "/etc/trueno-zram.conf:3: [zram0] swap-priority: bad value 'lots'"));
    CHECK(logged(c, "/etc/trueno-zram.conf:6: [zram1] swap-priority: bad value 'x'"));
}

TEST_CASE("a zram-size that cannot be evaluated: no device for that section, never the default size", "[config]")
{
    auto c = parse("[zram0]\nzram-size = lots\n"
                   "[zram1]\nzram-size = 1G\nzram-size = ram / 2 +\n" // the last word counts
                   "[zram2]\nzram-size = -5\n"
                   "[zram3]\nzram-size = oops\nzram-size = 256\n" // replaced by a usable one
                   "[zram4]\nzram-size = 512\n");
    CHECK(c.devices.size() == 2);
    CHECK_FALSE(c.devices.contains(0));
    CHECK_FALSE(c.devices.contains(1));
    CHECK_FALSE(c.devices.contains(2));
    REQUIRE(c.devices.contains(3));
    CHECK(c.devices.at(3).disksize_bytes == 256 * MiB);
    REQUIRE(c.devices.contains(4));
    CHECK(c.devices.at(4).disksize_bytes == 512 * MiB);
    CHECK(logged(c, "/etc/trueno-zram.conf:2: [zram0] zram-size: bad value 'lots'"));
    CHECK(logged(c, "[zram0] (/dev/ublkb0): zram-size 'lots' is not a usable size: not creating it"));
    CHECK(logged(c, "[zram1] (/dev/ublkb1): zram-size 'ram / 2 +' is not a usable size: not creating it"));
    CHECK(logged(c, "/etc/trueno-zram.conf:7: [zram2] zram-size: bad value '-5': must not be negative"));
    CHECK(logged(c, "[zram2] (/dev/ublkb2): zram-size '-5' is not a usable size: not creating it"));
    CHECK(logged(c, "/etc/trueno-zram.conf:9: [zram3] zram-size: bad value 'oops'"));
    CHECK_FALSE(logged(c, "[zram3] (/dev/ublkb3): zram-size"));
    CHECK_FALSE(logged(c, "[zram4]"));
}

TEST_CASE("later files override earlier ones key by key", "[config]")
{
    auto c = gen::build_config({{"/etc/trueno-zram.conf", "[zram0]\nzram-size = 100\nswap-priority = 1\n"},
                                {"/etc/trueno-zram.conf.d/10.conf", "[zram0]\nswap-priority = 2\n"}},
                               8192, {});
    const auto& d = c.devices.at(0);
    CHECK(d.disksize_bytes == 100 * MiB);
    CHECK(d.swap_priority == 2);
    CHECK(d.sources == std::vector<std::string>{"/etc/trueno-zram.conf", "/etc/trueno-zram.conf.d/10.conf"});
}

TEST_CASE("obsolete zram-fraction and max-zram-size still work", "[config]")
{
    CHECK(parse("[zram0]\nzram-fraction = 0.25\n", 8192).devices.at(0).disksize_bytes == 2048 * MiB);
    CHECK(parse("[zram0]\nzram-fraction = 1\n", 8192).devices.at(0).disksize_bytes == 4096 * MiB);
    CHECK(parse("[zram0]\nzram-fraction = 1\nmax-zram-size = none\n", 8192).devices.at(0).disksize_bytes == 8192 * MiB);
    // A zram-size after them wins again.
    CHECK(parse("[zram0]\nzram-fraction = 1\nzram-size = 10\n", 8192).devices.at(0).disksize_bytes == 10 * MiB);
}

TEST_CASE("host-memory-limit skips devices on big machines", "[config]")
{
    auto c = parse("[zram0]\nhost-memory-limit = 4096\n[zram1]\nhost-memory-limit = 4096\nhost-memory-limit = none\n", 8192);
    CHECK_FALSE(c.devices.contains(0));
    CHECK(c.devices.contains(1));
    CHECK(logged(c, "more than host-memory-limit"));
    CHECK(parse("[zram0]\nhost-memory-limit = 8192\n", 8192).devices.contains(0)); // equal is fine
}

TEST_CASE("sizes no machine has are refused, not overflowed", "[config]")
{
    auto c = parse("[zram0]\nzram-size = 1T * 1T * 16\n[zram1]\nzram-resident-limit = 2 ^ 1000\n[zram2]\n");
    CHECK(c.devices.size() == 1);
    CHECK(c.devices.contains(2));
    CHECK(logged(c, "[zram0] (/dev/ublkb0): size"));
    CHECK(logged(c, "is beyond any machine"));
    CHECK_FALSE(gen::parse_timespan_s("1099511627776w 1099511627776w").ok());
}

TEST_CASE("zero-size devices are skipped", "[config]")
{
    auto c = parse("[zram0]\nzram-size = 0\n");
    CHECK(c.devices.empty());
    CHECK(logged(c, "size works out to 0 bytes"));
}

TEST_CASE("kernel command line: both spellings, last one wins", "[config]")
{
    std::vector<std::string> m;
    CHECK_FALSE(gen::parse_kernel_cmdline("quiet splash", m).has_value());
    CHECK(gen::parse_kernel_cmdline("systemd.zram", m) == true);
    CHECK(gen::parse_kernel_cmdline("trueno.zram=0", m) == false);
    CHECK(gen::parse_kernel_cmdline("trueno.zram=0 systemd.zram=on", m) == true);
    CHECK(gen::parse_kernel_cmdline("systemd.zram=1 trueno.zram=no", m) == false);
    CHECK(gen::parse_kernel_cmdline("foo=\"a trueno.zram=1 b\" trueno.zram=0", m) == false); // quoted is not a switch
    CHECK(gen::parse_kernel_cmdline("trueno.zramx=1", m) == std::nullopt);
    CHECK(m.empty());
    CHECK(gen::parse_kernel_cmdline("trueno.zram=maybe", m) == std::nullopt);
    CHECK(m.size() == 1);

    CHECK(parse("", 8192, true).devices.contains(0));
    CHECK(parse("[zram1]\n", 8192, false).devices.empty());
    auto kept = parse("[zram0]\nzram-size = 1G\n", 8192, true);
    CHECK(kept.devices.at(0).disksize_bytes == 1024 * MiB);
}

TEST_CASE("compression-algorithm syntax", "[config]")
{
    auto c = gen::parse_compression("lzo-rle");
    REQUIRE(c.ok());
    CHECK(c->primary->name == "lzo-rle");
    CHECK(c->recompression.empty());
    CHECK_FALSE(gen::parse_compression("").ok());
    CHECK_FALSE(gen::parse_compression("zstd(level)").ok());
    CHECK_FALSE(gen::parse_compression("zstd)(").ok());
    CHECK_FALSE(gen::parse_compression("zstd(level=1)x").ok());
    CHECK_FALSE(gen::parse_compression("zstd ()").ok());
    CHECK_FALSE(gen::parse_compression("zstd (type=idle,foo=1)").ok());
}

TEST_CASE("time spans for recompress-interval", "[config]")
{
    CHECK(gen::parse_timespan_s("90").value() == 90);
    CHECK(gen::parse_timespan_s("30s").value() == 30);
    CHECK(gen::parse_timespan_s("5min").value() == 300);
    CHECK(gen::parse_timespan_s("1h 30min").value() == 5400);
    CHECK(gen::parse_timespan_s("2d").value() == 172800);
    CHECK(gen::parse_timespan_s("1 w").value() == 604800);
    CHECK_FALSE(gen::parse_timespan_s("").ok());
    CHECK_FALSE(gen::parse_timespan_s("soon").ok());
    CHECK_FALSE(gen::parse_timespan_s("5 fortnights").ok());
    CHECK_FALSE(gen::parse_timespan_s("-5s").ok());
}

TEST_CASE("config files: main file precedence, drop-ins by name, masking", "[config]")
{
    TempRoot root;
    root.write("usr/lib/trueno-zram.conf", "[zram9]\n");
    root.write("etc/trueno-zram.conf", "[zram0]\n");
    root.write("usr/lib/trueno-zram.conf.d/10-a.conf", "[zram1]\n");
    root.write("etc/trueno-zram.conf.d/10-a.conf", "[zram2]\n"); // replaces the vendor one
    root.write("usr/lib/trueno-zram.conf.d/20-b.conf", "[zram3]\n");
    fs::create_directories(root.path / "etc/trueno-zram.conf.d");
    fs::create_symlink("/dev/null", root.path / "etc/trueno-zram.conf.d/20-b.conf"); // masks
    root.write("run/trueno-zram.conf.d/05-c.conf", "[zram4]\n");
    root.write("etc/trueno-zram.conf.d/30-d.conf.disabled", "[zram5]\n");

    std::vector<std::string> messages;
    auto files = gen::locate_config_files(root.path, messages);
    std::vector<std::string> rel;
    for (const auto& f : files) rel.push_back(f.lexically_relative(root.path).string());
    CHECK(rel == std::vector<std::string>{"etc/trueno-zram.conf", "run/trueno-zram.conf.d/05-c.conf",
                                          "etc/trueno-zram.conf.d/10-a.conf"});

    root.write("proc/meminfo", "MemTotal:        8388608 kB\n");
    auto config = gen::load_config(root.path);
    std::vector<int> ids;
    for (const auto& [id, d] : config.devices) ids.push_back(id);
    CHECK(ids == std::vector<int>{0, 2, 4});
}

TEST_CASE("MemTotal is read from proc/meminfo in MiB", "[config]")
{
    TempRoot root;
    root.write("proc/meminfo", "MemFree: 1 kB\nMemTotal:        8013220 kB\n");
    CHECK(gen::read_memtotal_mib(root.path).value() == Approx(7825.4102));
    root.write("proc/meminfo", "MemTotala: 5 kB\n");
    CHECK_FALSE(gen::read_memtotal_mib(root.path).ok());
}
