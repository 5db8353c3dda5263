// Argument handling: zramctl's conflict rules and messages, exit codes, and that a rejected
// command line never reaches the daemon.
#include <catch2/catch.hpp>

#include "fake_daemon.hpp"
#include "options.hpp"

using namespace trueno::zramctl;
using namespace trueno::zramctl::testing;

namespace {

const std::string kTry = "Try 'trueno-zramctl --help' for more information.\n";

struct Rejected {
    std::vector<std::string> args;
    std::string message;
    bool try_help;
};

} // namespace

TEST_CASE("usage errors: one line, the help hint, exit 1, no daemon contact", "[options]")
{
    const std::vector<Rejected> cases{
        {{"-f", "-r"}, "mutually exclusive arguments: --find --output --reset", true},
        {{"-o", "NAME", "-r", "/dev/ublkb0"}, "mutually exclusive arguments: --find --output --reset", true},
        {{"-r", "-s", "1G", "/dev/ublkb0"}, "mutually exclusive arguments: --output --reset --size", true},
        {{"-s", "1G", "-o", "NAME", "/dev/ublkb0"}, "mutually exclusive arguments: --output --reset --size", true},
        {{"--stat", "-f"}, "mutually exclusive arguments: --find --stat --set", true},
        {{"--stat", "--set", "a=b", "/dev/ublkb0"}, "mutually exclusive arguments: --find --stat --set", true},
        {{"-s", "1G", "--stat", "/dev/ublkb0"},
         "mutually exclusive arguments: --output --reset --size --stat --set", true},
        {{"--json", "--raw"}, "mutually exclusive arguments: --json --raw", true},
        {{"-f", "/dev/ublkb0"}, "option --find is mutually exclusive with <device>", true},
        {{"-f", "-s", "1G", "/dev/ublkb0"}, "option --find is mutually exclusive with <device>", true},
        {{"/dev/ublkb0", "/dev/ublkb1"}, "only one <device> at a time is allowed", true},
        {{"-s", "1G", "/dev/ublkb0", "/dev/ublkb1"}, "only one <device> at a time is allowed", true},
        {{"-a", "lz4"}, "options --algorithm, --algorithm-params, and --streams must be combined with --size", true},
        {{"-p", "level=3", "/dev/ublkb0"},
         "options --algorithm, --algorithm-params, and --streams must be combined with --size", true},
        {{"-t", "2", "-f"}, "options --algorithm, --algorithm-params, and --streams must be combined with --size",
         true},
        {{"-r"}, "no device specified", true},
        {{"-s", "1G"}, "no device specified", true},
        {{"--stat"}, "no device specified", true},
        {{"--set", "mem_limit=1G"}, "no device specified", true},
        {{"--set", "mem_limit"}, "--set expects ATTRIBUTE=VALUE, got 'mem_limit'", true},
        {{"--set", "=1"}, "--set expects ATTRIBUTE=VALUE, got '=1'", true},
        {{"-o", "FOO"}, "unknown column: FOO", true},
        {{"-o", "NAME,FOO,DATA"}, "unknown column: FOO", true},
        {{"-o", "+BAR"}, "unknown column: BAR", true},
        {{"-o", "NAME,,DATA"}, "empty column name in --output list 'NAME,,DATA'", true},
        {{"-o", "+"}, "no columns given in --output list", true},
        {{"--bogus"}, "unrecognized option '--bogus'", true},
        {{"-q"}, "invalid option -- 'q'", true},
        {{"-bq"}, "invalid option -- 'q'", true},
        {{"-o"}, "option requires an argument -- 'o'", true},
        {{"--output"}, "option '--output' requires an argument", true},
        {{"--raw=1"}, "option '--raw' doesn't allow an argument", true},
        {{"--s", "1G"}, "option '--s' is ambiguous", true},
        {{"--socket="}, "--socket needs a path", true},
        {{"-s", "1X", "/dev/ublkb0"}, "failed to parse size: '1X': Invalid argument", false},
        {{"-s", "-1G", "/dev/ublkb0"}, "failed to parse size: '-1G': Invalid argument", false},
        {{"-s", "16E", "/dev/ublkb0"}, "failed to parse size: '16E': Numerical result out of range", false},
        {{"-s", "8E", "/dev/ublkb0"}, "failed to parse size: '8E': Numerical result out of range", false},
        {{"-s", "1G", "-t", "abc", "/dev/ublkb0"}, "failed to parse streams: 'abc'", false},
        {{"-s", "1G", "-t", "-1", "/dev/ublkb0"}, "failed to parse streams: '-1': Numerical result out of range",
         false},
    };
    for (const auto& c : cases) {
        auto state = std::make_shared<FakeState>();
        state->devices = sample_devices();
        std::string joined;
        for (const auto& a : c.args)
            joined += a + " ";
        INFO("args: " << joined);
        auto r = run_cli(c.args, fake_environment(state));
        CHECK(r.status == 1);
        CHECK(r.out.empty());
        CHECK(r.err == "trueno-zramctl: " + c.message + "\n" + (c.try_help ? kTry : ""));
        CHECK(state->calls.empty());
    }
}

TEST_CASE("the last --output wins, --output-all then +LIST appends", "[options]")
{
    auto p = parse_options({"trueno-zramctl", "-o", "DATA", "-o", "NAME"}, std::nullopt);
    REQUIRE(p.options);
    CHECK(p.options->columns == std::vector<ColumnId>{ColumnId::Name});
    p = parse_options({"trueno-zramctl", "--output-all", "-o", "+NAME"}, std::nullopt);
    REQUIRE(p.options);
    CHECK(p.options->columns.size() == output_all_columns().size() + 1);
    CHECK(output_all_columns().size() == 13); // zramctl's columns; trueno's own only by name
    CHECK(p.options->columns.back() == ColumnId::Name);
    p = parse_options({"trueno-zramctl", "-o", "+mountpoint"}, std::nullopt);
    REQUIRE(p.options);
    auto expected = default_columns();
    expected.push_back(ColumnId::MountPoint);
    CHECK(p.options->columns == expected);
}

TEST_CASE("set-up options are carried through", "[options]")
{
    auto p = parse_options({"trueno-zramctl", "--find", "--size", "4G", "--algorithm", "zstd",
                            "--algorithm-params", "level=3", "--streams", "4"},
                           std::nullopt);
    REQUIRE(p.options);
    CHECK(p.options->action == Action::Create);
    CHECK(p.options->find);
    CHECK(p.options->size == 4ull << 30);
    CHECK(p.options->algorithm == "zstd");
    CHECK(p.options->algorithm_params == "level=3");
    CHECK(p.options->streams == 4);

    p = parse_options({"trueno-zramctl", "/dev/ublkb3", "-s", "1G"}, std::nullopt); // device first
    REQUIRE(p.options);
    CHECK(p.options->action == Action::Create);
    CHECK(p.options->devices == std::vector<std::string>{"/dev/ublkb3"});
}

TEST_CASE("socket: --socket beats the environment, which beats the default", "[options]")
{
    auto p = parse_options({"trueno-zramctl"}, std::nullopt);
    REQUIRE(p.options);
    CHECK(p.options->socket_path == "/run/trueno-zram/io.trueno.zram");
    p = parse_options({"trueno-zramctl"}, std::string("/tmp/env.sock"));
    REQUIRE(p.options);
    CHECK(p.options->socket_path == "/tmp/env.sock");
    p = parse_options({"trueno-zramctl", "--socket", "/tmp/opt.sock"}, std::string("/tmp/env.sock"));
    REQUIRE(p.options);
    CHECK(p.options->socket_path == "/tmp/opt.sock");

    auto state = std::make_shared<FakeState>();
    auto env = fake_environment(state);
    env.socket_env = "/tmp/env.sock";
    CHECK(run_cli({}, env).status == 0);
    CHECK(state->socket_used == "/tmp/env.sock");
}

TEST_CASE("--help and --version print to stdout and exit 0 without the daemon", "[options]")
{
    auto state = std::make_shared<FakeState>();
    auto help = run_cli({"--help"}, fake_environment(state));
    CHECK(help.status == 0);
    CHECK(help.err.empty());
    CHECK(help.out.rfind("\nUsage:\n trueno-zramctl [options] <device>\n", 0) == 0);
    for (const auto& c : all_columns())
        CHECK(help.out.find(" " + std::string(c.name) + "  ") != std::string::npos);
    auto version = run_cli({"-V"}, fake_environment(state));
    CHECK(version.status == 0);
    CHECK(version.out == "trueno-zramctl from trueno-zram " TRUENO_VERSION "\n");
    CHECK(state->calls.empty());
}
