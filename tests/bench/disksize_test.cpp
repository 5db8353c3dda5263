// --disksize: "auto", plain bytes, K/M/G/T suffixes (powers of 1024) and clear errors.
#include <catch2/catch.hpp>

#include "disksize.hpp"

using trueno::bench::parse_disksize;

TEST_CASE("disksize values") {
    CHECK(*parse_disksize("auto") == 0);
    CHECK(*parse_disksize("4096") == 4096);
    CHECK(*parse_disksize("512M") == 512ull << 20);
    CHECK(*parse_disksize("4g") == 4ull << 30);
    CHECK(*parse_disksize("1T") == 1ull << 40);
    CHECK(*parse_disksize("8K") == 8192);
}

TEST_CASE("bad disksize values are errors with the value in the message") {
    for (const char* bad : {"", "x", "12Q", "-5", "4GB", "0", "99999999999999999999", "20000000000000T"}) {
        INFO(bad);
        auto r = parse_disksize(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == EINVAL);
    }
    CHECK_THAT(parse_disksize("12Q").error().message, Catch::Contains("12Q"));
}
