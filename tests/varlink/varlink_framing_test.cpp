// MessageReader: NUL framing however the bytes arrive, and the size cap.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "trueno/varlink/framing.hpp"

using trueno::varlink::frame;
using trueno::varlink::MessageReader;
using namespace std::string_literals;

TEST_CASE("frame appends exactly one NUL") {
    CHECK(frame("{}") == "{}\0"s);
    CHECK(frame("").size() == 1);
}

TEST_CASE("one message in one read") {
    MessageReader r;
    std::vector<std::string> out;
    REQUIRE(r.feed("{\"a\":1}\0"s, out).ok());
    REQUIRE(out == std::vector<std::string>{"{\"a\":1}"});
    CHECK(r.pending() == 0);
}

TEST_CASE("several messages in one read, the last incomplete") {
    MessageReader r;
    std::vector<std::string> out;
    REQUIRE(r.feed("{\"a\":1}\0{\"b\":2}\0{\"c\""s, out).ok());
    REQUIRE(out == std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"});
    CHECK(r.pending() == 4);
    out.clear();
    REQUIRE(r.feed(":3}\0"s, out).ok());
    REQUIRE(out == std::vector<std::string>{"{\"c\":3}"});
    CHECK(r.pending() == 0);
}

TEST_CASE("a message arriving one byte at a time") {
    const std::string wire = "{\"method\":\"x.Y\"}\0{}\0"s;
    MessageReader r;
    std::vector<std::string> out;
    for (char ch : wire) REQUIRE(r.feed(std::string_view(&ch, 1), out).ok());
    REQUIRE(out == std::vector<std::string>{"{\"method\":\"x.Y\"}", "{}"});
}

TEST_CASE("empty messages between NULs are kept as empty") {
    MessageReader r;
    std::vector<std::string> out;
    REQUIRE(r.feed("\0\0"s, out).ok());
    CHECK(out == std::vector<std::string>{"", ""});
}

TEST_CASE("a message over the cap is refused, in one piece or many") {
    SECTION("exactly the cap is accepted") {
        MessageReader r(8);
        std::vector<std::string> out;
        REQUIRE(r.feed("12345678\0"s, out).ok());
        CHECK(out.size() == 1);
    }
    SECTION("one byte over in one read") {
        MessageReader r(8);
        std::vector<std::string> out;
        auto s = r.feed("123456789\0"s, out);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().code == E2BIG);
        CHECK(out.empty());
    }
    SECTION("over the cap across reads, before any NUL arrives") {
        MessageReader r(8);
        std::vector<std::string> out;
        REQUIRE(r.feed("12345", out).ok());
        auto s = r.feed("6789", out);
        REQUIRE_FALSE(s.ok());
        CHECK(s.error().code == E2BIG);
    }
    SECTION("messages completed before the oversized one are delivered") {
        MessageReader r(8);
        std::vector<std::string> out;
        auto s = r.feed("{}\0"s + "123456789", out);
        CHECK_FALSE(s.ok());
        CHECK(out == std::vector<std::string>{"{}"});
    }
}
