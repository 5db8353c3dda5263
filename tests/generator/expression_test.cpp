#include <catch2/catch.hpp>

#include "expression.hpp"

using trueno::generator::evaluate;
using trueno::generator::Variables;

namespace {
double eval(const char* text, double ram = 8000)
{
    auto r = evaluate(text, Variables{{"ram", ram}});
    INFO(text << ": " << (r ? "" : r.error().message));
    REQUIRE(r.ok());
    return *r;
}

std::string error_of(const char* text)
{
    auto r = evaluate(text, Variables{{"ram", 8000}});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EINVAL);
    return r.error().message;
}
} // namespace

TEST_CASE("zram-size arithmetic follows the usual precedence", "[expression]")
{
    CHECK(eval("1 + 2 * 3") == 7);
    CHECK(eval("(1 + 2) * 3") == 9);
    CHECK(eval("10 - 4 - 3") == 3);       // left-associative
    CHECK(eval("2 ^ 3 ^ 2") == 512);      // right-associative
    CHECK(eval("-2 ^ 2") == -4);          // power binds tighter than unary minus on its left
    CHECK(eval("2 ^ -1") == 0.5);
    CHECK(eval("17 % 5") == 2);
    CHECK(eval("7 / 2") == 3.5);
    CHECK(eval(" - - 3") == 3);
    CHECK(eval("1.5 + .5") == 2);
}

TEST_CASE("ram, functions and constants", "[expression]")
{
    CHECK(eval("ram / 2", 7000) == 3500);
    CHECK(eval("min(ram / 2, 4096)", 16000) == 4096);
    CHECK(eval("min(ram / 2, 4096)", 2000) == 1000);
    CHECK(eval("max(1, 5, 3)") == 5);
    CHECK(eval("min(4)") == 4);
    CHECK(eval("min(min(ram, 4096) + max(ram - 4096, 0) / 2, 32 * 1024)", 65536) == 32768);
    CHECK(eval("floor(2.7) + ceil(2.1) + round(2.5) + abs(-1) + int(-1.9)") == 2 + 3 + 3 + 1 - 1);
    CHECK(eval("pi") == Approx(3.14159265));
    CHECK(eval("e") == Approx(2.71828182));
}

TEST_CASE("size suffixes are binary units converted to MiB", "[expression]")
{
    CHECK(eval("4G") == 4096);
    CHECK(eval("4g") == 4096);
    CHECK(eval("512M") == 512);
    CHECK(eval("500k") == Approx(500.0 / 1024));
    CHECK(eval("500K") == Approx(500.0 / 1024));
    CHECK(eval("1T") == 1024 * 1024);
    CHECK(eval("2GiB") == 2048);
    CHECK(eval("min(ram, 8G)", 16384) == 8192);
    CHECK(eval("0.5G") == 512);
}

TEST_CASE("bad expressions say what is wrong and where", "[expression]")
{
    CHECK_THAT(error_of(""), Catch::Contains("empty"));
    CHECK_THAT(error_of("ram / 2 +"), Catch::Contains("column 10"));
    CHECK_THAT(error_of("rma"), Catch::Contains("unknown name 'rma'"));
    CHECK_THAT(error_of("10Q"), Catch::Contains("unknown size suffix 'Q'"));
    CHECK_THAT(error_of("1 / 0"), Catch::Contains("division by zero"));
    CHECK_THAT(error_of("1 % 0"), Catch::Contains("modulo by zero"));
    CHECK_THAT(error_of("(1 + 2"), Catch::Contains("expected ')'"));
    CHECK_THAT(error_of("1 + 2)"), Catch::Contains("unexpected ')'"));
    CHECK_THAT(error_of("sqrt(4)"), Catch::Contains("unknown function 'sqrt'"));
    CHECK_THAT(error_of("abs(1, 2)"), Catch::Contains("abs() takes one argument"));
    CHECK_THAT(error_of("1..2"), Catch::Contains("malformed number"));
    CHECK_THAT(error_of("1 $ 2"), Catch::Contains("unexpected '$'"));
    CHECK_THAT(error_of("10 ^ 400"), Catch::Contains("not a finite number"));
    CHECK_THAT(error_of(std::string(400, '9').c_str()), Catch::Contains("too large"));
    CHECK_THAT(error_of(std::string(100000, '(').c_str()), Catch::Contains("nested too deeply"));
}
