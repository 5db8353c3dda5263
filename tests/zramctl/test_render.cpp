// Output formatting against golden files: the whole program path (options -> daemon data ->
// columns -> table/raw/json) with fixed attribute values, compared byte for byte.
#include <catch2/catch.hpp>

#include <clocale>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "fake_daemon.hpp"
#include "table.hpp"

using namespace trueno::zramctl;
using namespace trueno::zramctl::testing;

namespace {

std::string golden_path(const std::string& name) { return std::string(ZRAMCTL_GOLDEN_DIR) + "/" + name; }

// TRUENO_UPDATE_GOLDEN=1 rewrites the file and fails the test, so a regenerated file is never
// mistaken for a passing comparison: review the diff, then run again.
void check_golden(const std::string& name, const std::string& actual)
{
    const std::string path = golden_path(name);
    if (std::getenv("TRUENO_UPDATE_GOLDEN")) {
        std::ofstream(path, std::ios::binary) << actual;
        FAIL_CHECK("golden file rewritten: " << path);
        return;
    }
    std::ifstream in(path, std::ios::binary);
    REQUIRE(in.good());
    std::ostringstream expected;
    expected << in.rdbuf();
    INFO("golden file " << path);
    CHECK(actual == expected.str());
}

std::string listing(std::vector<std::string> args)
{
    auto state = std::make_shared<FakeState>();
    state->devices = sample_devices();
    auto r = run_cli(std::move(args), fake_environment(state));
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    REQUIRE(r.err.empty());
    return r.out;
}

} // namespace

TEST_CASE("default listing matches zramctl's layout", "[render]")
{
    check_golden("default.txt", listing({}));
}

TEST_CASE("--output-all lists every column, human and in bytes", "[render]")
{
    check_golden("output-all.txt", listing({"--output-all"}));
    check_golden("output-all-bytes.txt", listing({"--output-all", "--bytes"}));
}

TEST_CASE("--raw and --noheadings", "[render]")
{
    check_golden("raw.txt", listing({"--raw"}));
    check_golden("raw-all-noheadings.txt", listing({"--raw", "--output-all", "-n"}));
    check_golden("noheadings.txt", listing({"--noheadings"}));
}

TEST_CASE("--json in human and byte form", "[render]")
{
    check_golden("json.txt", listing({"--json", "--output-all"}));
    check_golden("json-bytes.txt", listing({"-J", "--output-all", "-b"}));
}

TEST_CASE("--output replaces, +LIST appends, names are case-insensitive", "[render]")
{
    check_golden("output-list.txt", listing({"-o", "comp-ratio,NAME,Zero-Pages"}));
    check_golden("plus-list.txt", listing({"-o", "+ZERO-PAGES,COMP-RATIO"}));
    check_golden("output-all-plus.txt", listing({"--output-all", "-o", "+NAME", "--raw"}));
}

TEST_CASE("one named device lists only that device", "[render]")
{
    check_golden("one-device.txt", listing({"/dev/ublkb1", "-o", "NAME,DATA,COMPR,MOUNTPOINT"}));
}

TEST_CASE("no devices: nothing for tables, an empty list for json", "[render]")
{
    auto state = std::make_shared<FakeState>();
    auto env = fake_environment(state);
    auto table = run_cli({}, env);
    CHECK(table.status == 0);
    CHECK(table.out.empty());
    auto json = run_cli({"--json"}, env);
    CHECK(json.status == 0);
    // libsmartcols (2.38.1, and upstream still) closes an empty array after a blank line.
    CHECK(json.out == "{\n   \"zramdevices\": [\n\n   ]\n}\n");
}

TEST_CASE("a column's hint is its width only when its cells are as wide as its heading", "[render]")
{
    // libsmartcols widens a column to its heading first and applies the hint only otherwise:
    // DATA (hint 5) holding "74B" is as wide as "DATA", as zramctl prints it.
    std::vector<DeviceRecord> rows{{"/dev/ublkb1", {{"mm_stat", "74 48 12288 0 12288 0 0"}}, ""}};
    RenderOptions table{{ColumnId::Data, ColumnId::Name}, OutputFormat::Table, true, false};
    CHECK(render(rows, table) == "DATA NAME\n 74B /dev/ublkb1\n");
    // An empty right-aligned last cell prints nothing, not even padding.
    RenderOptions last{{ColumnId::Name, ColumnId::Streams}, OutputFormat::Table, true, false};
    CHECK(render(rows, last) == "NAME        STREAMS\n/dev/ublkb1 \n");
}

TEST_CASE("cells are computed from kernel zram attribute text", "[render][columns]")
{
    DeviceRecord d{"/dev/ublkb5",
                   {{"disksize", "4294967296\n"},
                    {"comp_algorithm", "lzo [lz4] zstd\n"},
                    {"mm_stat", " 1048576   262144   524288        0   600000        9        4        1        1\n"}},
                   ""};
    CHECK(cell_text(ColumnId::Name, d, false) == "/dev/ublkb5");
    CHECK(cell_text(ColumnId::DiskSize, d, false) == "4G");
    CHECK(cell_text(ColumnId::DiskSize, d, true) == "4294967296");
    CHECK(cell_text(ColumnId::Data, d, false) == "1M");
    CHECK(cell_text(ColumnId::Compr, d, false) == "256K");
    CHECK(cell_text(ColumnId::Total, d, false) == "512K");
    CHECK(cell_text(ColumnId::MemLimit, d, false) == "0B");
    CHECK(cell_text(ColumnId::MemUsed, d, false) == "585.9K");
    CHECK(cell_text(ColumnId::MemUsed, d, true) == "600000");
    CHECK(cell_text(ColumnId::ZeroPages, d, false) == "9");
    CHECK(cell_text(ColumnId::Migrated, d, true) == "4");
    CHECK(cell_text(ColumnId::Algorithm, d, false) == "lz4");
    CHECK(cell_text(ColumnId::CompRatio, d, false) == "2.0000");
    CHECK_FALSE(cell_text(ColumnId::Streams, d, false).has_value());
    CHECK_FALSE(cell_text(ColumnId::MountPoint, d, false).has_value());

    DeviceRecord broken{"/dev/ublkb6", {{"mm_stat", "12 x"}, {"disksize", "-5"}}, ""};
    CHECK_FALSE(cell_text(ColumnId::Data, broken, false).has_value()); // a malformed mm_stat counts as absent
    CHECK_FALSE(cell_text(ColumnId::Compr, broken, false).has_value());
    CHECK_FALSE(cell_text(ColumnId::DiskSize, broken, false).has_value());
    CHECK_FALSE(cell_text(ColumnId::Algorithm, broken, false).has_value());
    CHECK_FALSE(cell_text(ColumnId::CompRatio, broken, false).has_value());
}

TEST_CASE("table cells with control characters are escaped, raw escapes blanks", "[render]")
{
    std::vector<DeviceRecord> rows{{"/dev/ublkb0", {}, "/mnt/a b\tc"}};
    RenderOptions table{{ColumnId::Name, ColumnId::MountPoint}, OutputFormat::Table, true, false};
    CHECK(render(rows, table) == "NAME        MOUNTPOINT\n/dev/ublkb0 /mnt/a b\\x09c\n");
    RenderOptions raw{{ColumnId::MountPoint, ColumnId::Name}, OutputFormat::Raw, false, false};
    CHECK(render(rows, raw) == "/mnt/a\\x20b\\x09c /dev/ublkb0\n");
    RenderOptions json{{ColumnId::MountPoint}, OutputFormat::Json, true, false};
    CHECK(render(rows, json) == "{\n   \"zramdevices\": [\n      {\n         \"mountpoint\": \"/mnt/a b\\tc\"\n      }\n   ]\n}\n");
}

TEST_CASE("JSON escapes quotes and backslashes; table and raw escape a backslash before x", "[render]")
{
    // "\x41" in a name would read as an escape, so libsmartcols writes its backslash as \x5c.
    std::vector<DeviceRecord> rows{{"/dev/ublkb0", {}, "/mnt/\"q\" b\\s\\x41"}};
    RenderOptions json{{ColumnId::MountPoint, ColumnId::Streams}, OutputFormat::Json, true, false};
    CHECK(render(rows, json) == "{\n   \"zramdevices\": [\n      {\n"
                                "         \"mountpoint\": \"/mnt/\\\"q\\\" b\\\\s\\\\x41\",\n"
                                "         \"streams\": null\n      }\n   ]\n}\n");
    RenderOptions table{{ColumnId::MountPoint}, OutputFormat::Table, false, false};
    CHECK(render(rows, table) == "/mnt/\"q\" b\\s\\x5cx41\n");
    RenderOptions raw{{ColumnId::MountPoint}, OutputFormat::Raw, false, false};
    CHECK(render(rows, raw) == "/mnt/\"q\"\\x20b\\x5cs\\x5cx41\n");
}

TEST_CASE("columns are as wide as their cells on a terminal: CJK characters take two", "[render]")
{
    // "/mnt/数据数据" is 9 code points and 13 cells; zramctl (libsmartcols) pads by cells.
    std::vector<DeviceRecord> rows{{"/dev/ublkb0", {}, "/mnt/\u6570\u636e\u6570\u636e"},
                                   {"/dev/ublkb1", {}, "/mnt/ab"}};
    RenderOptions table{{ColumnId::MountPoint, ColumnId::Name}, OutputFormat::Table, true, false};
    CHECK(render(rows, table) == "MOUNTPOINT    NAME\n"
                                 "/mnt/\u6570\u636e\u6570\u636e /dev/ublkb0\n"
                                 "/mnt/ab       /dev/ublkb1\n");
    // A combining accent takes no cell: "e\u0301" is one.
    std::vector<DeviceRecord> accented{{"/dev/ublkb0", {}, "/mnt/cafe\u0301-data-dir"},
                                       {"/dev/ublkb1", {}, "/mnt/x"}};
    CHECK(render(accented, table) == "MOUNTPOINT         NAME\n"
                                     "/mnt/cafe\u0301-data-dir /dev/ublkb0\n"
                                     "/mnt/x             /dev/ublkb1\n");
    // Raw output escapes every byte that is not printable ASCII, as zramctl --raw does; JSON
    // keeps the characters.
    RenderOptions raw{{ColumnId::MountPoint}, OutputFormat::Raw, false, false};
    CHECK(render({rows[0]}, raw) ==
          "/mnt/\\xe6\\x95\\xb0\\xe6\\x8d\\xae\\xe6\\x95\\xb0\\xe6\\x8d\\xae\n");
    RenderOptions json{{ColumnId::MountPoint}, OutputFormat::Json, true, false};
    CHECK(render({rows[0]}, json) == "{\n   \"zramdevices\": [\n      {\n"
                                     "         \"mountpoint\": \"/mnt/\u6570\u636e\u6570\u636e\"\n"
                                     "      }\n   ]\n}\n");
}

TEST_CASE("the layout does not depend on the process's locale", "[render]")
{
    // zramctl runs in the user's (UTF-8) locale; trueno-zramctl sets none, so it measures in
    // C.UTF-8 even when the process's locale is "C" and leaves that locale as it was.
    const std::string before = std::setlocale(LC_CTYPE, nullptr);
    std::setlocale(LC_CTYPE, "C");
    std::vector<DeviceRecord> rows{{"/dev/ublkb0", {}, "/mnt/\u6570\u636e"},
                                   {"/dev/ublkb1", {}, "/mnt/a"}};
    RenderOptions table{{ColumnId::MountPoint, ColumnId::Name}, OutputFormat::Table, true, false};
    const auto out = render(rows, table);
    CHECK(std::string(std::setlocale(LC_CTYPE, nullptr)) == "C");
    std::setlocale(LC_CTYPE, before.c_str());
    CHECK(out == "MOUNTPOINT NAME\n"
                 "/mnt/\u6570\u636e  /dev/ublkb0\n"
                 "/mnt/a     /dev/ublkb1\n");
}

TEST_CASE("HUGE-PAGES, HUGE-SINCE, GROUPED, DEDUPLICATED and RECOMPRESSED: table and JSON", "[render]")
{
    // mm_stat's fields 8 and 9; object_stat's grouped, deduplicated and recompressed pages. A
    // device without object_stat (ublkb1) or with a short mm_stat has empty cells, null in
    // JSON; so has RECOMPRESSED from an object_stat of four fields (ublkb12, an older daemon).
    check_golden("trueno-columns.txt",
                 listing({"-o", "NAME,HUGE-PAGES,HUGE-SINCE,GROUPED,DEDUPLICATED,RECOMPRESSED"}));
    check_golden("trueno-columns-json.txt",
                 listing({"--json", "-o", "NAME,HUGE-PAGES,HUGE-SINCE,GROUPED,DEDUPLICATED,RECOMPRESSED"}));
    // --output-all stays zramctl's columns, so its output is zramctl's byte for byte.
    CHECK(listing({"--output-all"}).find("HUGE-PAGES") == std::string::npos);
}

TEST_CASE("BACKING-DEV, WRITTEN-BACK, BD-READS and BD-WRITES: table and JSON", "[render]") {
    // backing_dev and bd_stat: a device writing back (ublkb0), one without bd_stat (an older
    // daemon: empty cells, null in JSON) and one with no backing device (none: empty).
    check_golden("writeback-columns.txt",
                 listing({"-o", "NAME,BACKING-DEV,WRITTEN-BACK,BD-READS,BD-WRITES"}));
    check_golden("writeback-columns-json.txt",
                 listing({"--json", "-o", "NAME,BACKING-DEV,WRITTEN-BACK,BD-READS,BD-WRITES"}));
    CHECK(listing({"--output-all"}).find("WRITTEN-BACK") == std::string::npos);
}
