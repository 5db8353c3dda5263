// Size parsing as util-linux strtosize() and formatting as size_to_human_string().
#include <catch2/catch.hpp>

#include <cerrno>

#include "device_path.hpp"
#include "sizes.hpp"

using namespace trueno::zramctl;

namespace {
std::uint64_t size_of(const char* text)
{
    auto r = parse_size(text);
    INFO(text << ": " << (r ? "" : r.error().message));
    REQUIRE(r.ok());
    return *r;
}
int size_error(const char* text)
{
    auto r = parse_size(text);
    INFO(text);
    REQUIRE_FALSE(r.ok());
    return r.error().code;
}
} // namespace

TEST_CASE("bare numbers are bytes", "[sizes]")
{
    CHECK(size_of("0") == 0);
    CHECK(size_of("4096") == 4096);
    CHECK(size_of("0x1000") == 4096); // strtoumax base 0, as util-linux
    CHECK(size_of("010") == 8);
    CHECK(size_of("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("binary and decimal suffixes", "[sizes]")
{
    CHECK(size_of("1K") == 1024);
    CHECK(size_of("1KiB") == 1024);
    CHECK(size_of("1KB") == 1000);
    CHECK(size_of("1k") == 1024);
    CHECK(size_of("4M") == 4ull << 20);
    CHECK(size_of("4MiB") == 4ull << 20);
    CHECK(size_of("4MB") == 4000000);
    CHECK(size_of("4G") == 4ull << 30);
    CHECK(size_of("4GiB") == 4ull << 30);
    CHECK(size_of("4GB") == 4000000000ull);
    CHECK(size_of("2T") == 2ull << 40);
    CHECK(size_of("1P") == 1ull << 50);
    CHECK(size_of("15E") == 15ull << 60);
}

TEST_CASE("fractions of a unit", "[sizes]")
{
    CHECK(size_of("0.5M") == 512 * 1024);
    CHECK(size_of("0.5MB") == 500000);
    CHECK(size_of("1.5G") == 3ull << 29);
    CHECK(size_of("0.25G") == 1ull << 28);
    CHECK(size_of("1.05K") == 1024 + 1024 / 20);
    CHECK(size_of("0.1K") == 102);
    CHECK(size_of("1.10K") == 1126);
    CHECK(size_of("0.0000000000000000000000001G") == 0);
    CHECK(size_of("15.9999999999999999999E") == UINT64_MAX - 0);
}

TEST_CASE("malformed and out-of-range sizes", "[sizes]")
{
    CHECK(size_error("") == EINVAL);
    CHECK(size_error("-1") == EINVAL);
    CHECK(size_error("-1G") == EINVAL);
    CHECK(size_error("G") == EINVAL);
    CHECK(size_error("1X") == EINVAL);
    CHECK(size_error("1GiBs") == EINVAL);
    CHECK(size_error("1 G") == EINVAL);
    CHECK(size_error("1.5") == EINVAL);
    CHECK(size_error("1Gi") == EINVAL);
    CHECK(size_error("16E") == ERANGE);
    CHECK(size_error("1Z") == ERANGE);
    CHECK(size_error("99999999999999999999") == ERANGE);
}

TEST_CASE("unsigned numbers for --streams", "[sizes]")
{
    CHECK(*parse_unsigned("4") == 4);
    CHECK(parse_unsigned("-1").error().code == ERANGE);
    CHECK(parse_unsigned("abc").error().code == EINVAL);
    CHECK(parse_unsigned("4x").error().code == EINVAL);
    CHECK(parse_unsigned("").error().code == EINVAL);
    CHECK(parse_unsigned("99999999999999999999").error().code == ERANGE);
}

TEST_CASE("human sizes: one letter, one decimal, rounded like util-linux", "[sizes]")
{
    CHECK(human_size(0) == "0B");
    CHECK(human_size(74) == "74B");
    CHECK(human_size(1023) == "1023B");
    CHECK(human_size(1024) == "1K");
    CHECK(human_size(1536) == "1.5K");
    CHECK(human_size(12058624) == "11.5M");
    CHECK(human_size(4ull << 30) == "4G");
    CHECK(human_size(4268032) == "4.1M");  // as kernel zram + zramctl printed on this machine
    CHECK(human_size(3906198) == "3.7M");
    CHECK(human_size(4530176) == "4.3M");
    CHECK(human_size(1024 * 1024 - 1) == "1024K"); // 1023.999K rounds up, unit kept (util-linux)
    CHECK(human_size(1024 + 51) == "1K");     // .0498 rounds down
    CHECK(human_size(1024 + 52) == "1.1K");   // .0507 rounds up
    CHECK(human_size(UINT64_MAX) == "16E");
    CHECK(human_size(1ull << 60) == "1E");
}

TEST_CASE("device paths", "[sizes][device]")
{
    CHECK(ublk_id_from_path("/dev/ublkb0") == 0);
    CHECK(ublk_id_from_path("/dev/ublkb42") == 42);
    CHECK(ublk_id_from_path("ublkb3") == 3);
    CHECK_FALSE(ublk_id_from_path("/dev/zram0").has_value());
    CHECK_FALSE(ublk_id_from_path("/dev/ublkc0").has_value());
    CHECK_FALSE(ublk_id_from_path("/dev/ublkb").has_value());
    CHECK_FALSE(ublk_id_from_path("/dev/ublkb01").has_value());
    CHECK_FALSE(ublk_id_from_path("/dev/ublkb1x").has_value());
    CHECK_FALSE(ublk_id_from_path("/dev/ublkb99999999999").has_value());
    CHECK(ublk_path(7) == "/dev/ublkb7");
}
