// Set-up, reset, --stat, --set and --find against an in-memory daemon: what is asked of the
// daemon, what is printed, and the exit status.
#include <unistd.h>

#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "fake_daemon.hpp"
#include "trueno/zswap.hpp"

using namespace trueno::zramctl;
using namespace trueno::zramctl::testing;

namespace {
std::shared_ptr<FakeState> sample_state()
{
    auto s = std::make_shared<FakeState>();
    s->devices = sample_devices();
    return s;
}
} // namespace

TEST_CASE("--find --size creates a device and prints its name", "[actions]")
{
    auto s = sample_state();
    auto r = run_cli({"--find", "--size", "4G", "--algorithm", "zstd", "--algorithm-params", "level=3", "--streams",
                      "4"},
                     fake_environment(s));
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK(r.out == "/dev/ublkb7\n");
    REQUIRE(s->creates.size() == 1);
    const auto& c = s->creates[0];
    CHECK(c.size == 4ull << 30);
    CHECK(c.algorithm == "zstd");
    CHECK(c.params == "level=3");
    CHECK(c.streams == 4u);
    CHECK_FALSE(c.id.has_value());
}

TEST_CASE("DEVICE --size sets up that id, resetting it first if it exists", "[actions]")
{
    auto s = sample_state();
    auto fresh = run_cli({"/dev/ublkb3", "--size", "1G"}, fake_environment(s));
    CHECK(fresh.status == 0);
    CHECK(fresh.out.empty()); // like zramctl: only --find prints the name
    REQUIRE(s->creates.size() == 1);
    CHECK(s->creates[0].id == 3);
    CHECK(s->creates[0].size == 1ull << 30);
    CHECK_FALSE(s->creates[0].algorithm.has_value());
    CHECK_FALSE(s->creates[0].streams.has_value());
    CHECK(s->calls == std::vector<std::string>{"ListDevices", "CreateDevice"});

    s->calls.clear();
    auto again = run_cli({"-s", "2G", "ublkb1"}, fake_environment(s));
    CHECK(again.status == 0);
    CHECK(s->calls == std::vector<std::string>{"ListDevices", "RemoveDevice 1", "CreateDevice"});
    CHECK(s->devices.at(1).attributes.at("disksize") == std::to_string(2ull << 30));
}

TEST_CASE("set-up failures name the device and the reason", "[actions]")
{
    auto s = sample_state();
    s->create_error = trueno::make_error(EINVAL, "Invalid argument (unknown algorithm 'foo')");
    auto r = run_cli({"/dev/ublkb3", "-s", "1G", "-a", "foo"}, fake_environment(s));
    CHECK(r.status == 1);
    CHECK(r.err ==
          "trueno-zramctl: /dev/ublkb3: failed to set up (1073741824 bytes): Invalid argument (unknown algorithm "
          "'foo')\n");

    s->remove_errors[0] = trueno::make_error(EBUSY, "Device or resource busy (active swap)");
    r = run_cli({"/dev/ublkb0", "-s", "1G"}, fake_environment(s));
    CHECK(r.status == 1);
    CHECK(r.err == "trueno-zramctl: /dev/ublkb0: failed to reset: Device or resource busy (active swap)\n");

    r = run_cli({"/dev/zram0", "-s", "1G"}, fake_environment(s));
    CHECK(r.status == 1);
    CHECK(r.err == "trueno-zramctl: /dev/zram0: not a trueno-zram device (expected /dev/ublkbN)\n");
}

TEST_CASE("--reset carries on past failures and exits 1 at the end", "[actions]")
{
    auto s = sample_state();
    s->remove_errors[0] = trueno::make_error(EBUSY, "Device or resource busy (active swap)");
    auto r = run_cli({"--reset", "/dev/ublkb0", "/dev/zram5", "/dev/ublkb9", "/dev/ublkb1"}, fake_environment(s));
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "trueno-zramctl: /dev/ublkb0: failed to reset: Device or resource busy (active swap)\n"
                   "trueno-zramctl: /dev/zram5: not a trueno-zram device (expected /dev/ublkbN)\n"
                   "trueno-zramctl: /dev/ublkb9: failed to reset: No such device\n");
    CHECK(s->calls == std::vector<std::string>{"RemoveDevice 0", "RemoveDevice 9", "RemoveDevice 1"});
    CHECK(s->devices.count(1) == 0);
    CHECK(s->devices.count(0) == 1);

    auto ok = run_cli({"-r", "/dev/ublkb12"}, fake_environment(s));
    CHECK(ok.status == 0);
    CHECK(ok.err.empty());
    CHECK(s->devices.count(12) == 0);
}

TEST_CASE("--stat prints every attribute sorted by name", "[actions]")
{
    auto s = sample_state();
    auto r = run_cli({"--stat", "/dev/ublkb1"}, fake_environment(s));
    CHECK(r.status == 0);
    CHECK(r.out == "comp_algorithm: [lzo-rle] lzo lz4 zstd\n"
                   "disksize: 1073741824\n"
                   "initstate: 1\n"
                   "mm_stat:       74       48    12288  1048576    12288        0        0        0        0\n");
    auto missing = run_cli({"--stat", "/dev/ublkb4"}, fake_environment(s));
    CHECK(missing.status == 1);
    CHECK(missing.err == "trueno-zramctl: /dev/ublkb4: No such device\n");
}

TEST_CASE("--set writes one attribute", "[actions]")
{
    auto s = sample_state();
    auto r = run_cli({"--set", "mem_limit=1G", "/dev/ublkb1"}, fake_environment(s));
    CHECK(r.status == 0);
    CHECK(r.out.empty());
    CHECK(s->calls == std::vector<std::string>{"SetAttribute 1 mem_limit=1G"});
    auto with_equals = run_cli({"/dev/ublkb1", "--set", "recompress=type=huge"}, fake_environment(s));
    CHECK(with_equals.status == 0);
    CHECK(s->devices.at(1).attributes.at("recompress") == "type=huge");
    auto missing = run_cli({"--set", "mem_limit=0", "/dev/ublkb4"}, fake_environment(s));
    CHECK(missing.status == 1);
    CHECK(missing.err == "trueno-zramctl: /dev/ublkb4: failed to set mem_limit: No such device\n");
}

TEST_CASE("--find alone prints the first id neither the daemon nor another ublk server uses", "[actions]")
{
    auto s = sample_state(); // daemon has 0, 1, 12; the environment says 2 is taken
    auto r = run_cli({"-f"}, fake_environment(s));
    CHECK(r.status == 0);
    CHECK(r.out == "/dev/ublkb3\n");
}

TEST_CASE("status of a device the daemon does not have", "[actions]")
{
    auto s = sample_state();
    auto r = run_cli({"/dev/ublkb9"}, fake_environment(s));
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK(r.err == "trueno-zramctl: /dev/ublkb9: No such device\n");
}

TEST_CASE("an unreachable daemon is reported once, without a device prefix", "[actions]")
{
    auto s = sample_state();
    s->everything_error = trueno::make_error(kDaemonUnreachable, "cannot connect to trueno-zramd at /x: boom");
    for (std::vector<std::string> args : {std::vector<std::string>{}, {"-r", "/dev/ublkb0"}, {"--stat", "ublkb0"}}) {
        auto r = run_cli(args, fake_environment(s));
        CHECK(r.status == 1);
        CHECK(r.err == "trueno-zramctl: cannot connect to trueno-zramd at /x: boom\n");
    }
}

TEST_CASE("a listing skips uninitialised devices, a named device always shows", "[actions]")
{
    auto s = sample_state();
    s->devices[4] = Device{4, "/dev/ublkb4", {{"disksize", "0"}}};
    auto all = run_cli({"-o", "NAME"}, fake_environment(s));
    CHECK(all.status == 0);
    CHECK(all.out == "NAME\n/dev/ublkb0\n/dev/ublkb1\n/dev/ublkb12\n");
    auto one = run_cli({"/dev/ublkb4", "-o", "NAME,DISKSIZE"}, fake_environment(s));
    CHECK(one.status == 0);
    CHECK(one.out == "NAME        DISKSIZE\n/dev/ublkb4       0B\n");
}

TEST_CASE("--stat warns on stderr when the kernel's zswap is on", "[actions][zswap]")
{
    auto s = sample_state();
    auto env = fake_environment(s);
    const auto plain = run_cli({"--stat", "/dev/ublkb1"}, env);
    env.zswap_enabled = [] { return std::optional<bool>(true); };
    auto on = run_cli({"--stat", "/dev/ublkb1"}, env);
    CHECK(on.status == 0);
    CHECK(on.out == plain.out); // the attributes as before: the warning is not one of them
    CHECK(on.err == std::string("trueno-zramctl: warning: ") + trueno::kZswapWarning + "\n");
    env.zswap_enabled = [] { return std::optional<bool>(false); };
    CHECK(run_cli({"--stat", "/dev/ublkb1"}, env).err.empty());
    env.zswap_enabled = [] { return std::optional<bool>(); }; // a kernel without zswap
    CHECK(run_cli({"--stat", "/dev/ublkb1"}, env).err.empty());
}

TEST_CASE("zswap's enabled parameter as the kernel writes it", "[zswap]")
{
    CHECK(trueno::parse_zswap_enabled("Y\n") == std::optional<bool>(true));
    CHECK(trueno::parse_zswap_enabled("N\n") == std::optional<bool>(false));
    CHECK(trueno::parse_zswap_enabled("1") == std::optional<bool>(true));
    CHECK(trueno::parse_zswap_enabled("0") == std::optional<bool>(false));
    CHECK_FALSE(trueno::parse_zswap_enabled("").has_value());
    CHECK_FALSE(trueno::parse_zswap_enabled("maybe").has_value());

    char dir_template[] = "/tmp/zswap-test-XXXXXX";
    REQUIRE(mkdtemp(dir_template) != nullptr);
    const std::string path = std::string(dir_template) + "/enabled";
    CHECK_FALSE(trueno::zswap_enabled(path).has_value()); // no such file: no zswap
    std::ofstream(path) << "Y\n";
    CHECK(trueno::zswap_enabled(path) == std::optional<bool>(true));
    std::ofstream(path) << "N\n";
    CHECK(trueno::zswap_enabled(path) == std::optional<bool>(false));
    std::remove(path.c_str());
    rmdir(dir_template);
}
