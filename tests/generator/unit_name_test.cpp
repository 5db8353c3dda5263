#include <catch2/catch.hpp>

#include "unit_name.hpp"

using trueno::generator::escape_path;
using trueno::generator::mount_unit_name;

namespace {
std::string escaped(const char* p)
{
    auto r = escape_path(p);
    REQUIRE(r.ok());
    return *r;
}
} // namespace

// Expected values are what `systemd-escape --path` prints for the same input.
TEST_CASE("paths escape as systemd-escape --path does", "[unit-name]")
{
    CHECK(escaped("/") == "-");
    CHECK(escaped("/var/tmp") == "var-tmp");
    CHECK(escaped("//var//tmp/") == "var-tmp");
    CHECK(escaped("/var/my tmp") == "var-my\\x20tmp");
    CHECK(escaped("/srv/cache-dir") == "srv-cache\\x2ddir");
    CHECK(escaped("/.hidden/a.b") == "\\x2ehidden-a.b");
    CHECK(escaped("/a%b:c_d") == "a\\x25b:c_d");
    CHECK(escaped("/var/my tmp/ünï-cödé") == "var-my\\x20tmp-\\xc3\\xbcn\\xc3\\xaf\\x2dc\\xc3\\xb6d\\xc3\\xa9");
    CHECK(escaped("/a\\b") == "a\\x5cb");
}

TEST_CASE("paths that cannot name a mount unit are refused", "[unit-name]")
{
    CHECK_FALSE(escape_path("relative").ok());
    CHECK_FALSE(escape_path("").ok());
    CHECK_FALSE(escape_path("/var/../etc").ok());
    CHECK_FALSE(escape_path("/var/./tmp").ok());
    CHECK(mount_unit_name("/var/tmp").value() == "var-tmp.mount");
    auto long_name = mount_unit_name("/" + std::string(300, 'a'));
    REQUIRE_FALSE(long_name.ok());
    CHECK(long_name.error().code == ENAMETOOLONG);
}
