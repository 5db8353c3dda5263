// Parsing calls and replies: what is accepted, what is refused and why.
#include <catch2/catch.hpp>

#include <string>

#include "trueno/varlink/message.hpp"

using namespace trueno::varlink;

TEST_CASE("a full call parses") {
    auto c = parse_call(R"({"method":"io.trueno.zram.GetAttributes","parameters":{"id":3},"more":true})");
    REQUIRE(c.ok());
    CHECK(c->method == "io.trueno.zram.GetAttributes");
    CHECK(c->parameters == Json{{"id", 3}});
    CHECK(c->more);
    CHECK_FALSE(c->oneway);
    CHECK_FALSE(c->upgrade);
    CHECK(interface_of(c->method) == "io.trueno.zram");
}

TEST_CASE("absent or null parameters are an empty object") {
    auto a = parse_call(R"({"method":"a.B"})");
    auto b = parse_call(R"({"method":"a.B","parameters":null})");
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    CHECK(a->parameters == Json::object());
    CHECK(b->parameters == Json::object());
}

TEST_CASE("malformed calls are refused with EINVAL") {
    const char* bad[] = {
        "{not json",
        "[1,2,3]",
        "\"just a string\"",
        "{}",
        R"({"method":5})",
        R"({"method":"NoInterface"})",
        R"({"method":"trailing."})",
        R"({"method":".Leading"})",
        R"({"method":"a.B","parameters":[1]})",
        R"({"method":"a.B","parameters":"x"})",
        R"({"method":"a.B","oneway":"yes"})",
        R"({"method":"a.B","more":1})",
        "{\"method\":\"a.\xff\"}", // not UTF-8
    };
    for (const char* text : bad) {
        INFO(text);
        auto c = parse_call(text);
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().code == EINVAL);
        CHECK_FALSE(c.error().message.empty());
    }
}

TEST_CASE("replies round-trip through JSON") {
    auto ok = Reply::ok({{"x", 1}});
    auto parsed = parse_reply(to_json(ok).dump());
    REQUIRE(parsed.ok());
    CHECK_FALSE(parsed->is_error());
    CHECK(parsed->parameters == Json{{"x", 1}});

    auto err = Reply::failure("io.trueno.zram.NoSuchDevice", {{"id", 7}});
    CHECK(to_json(err) == Json{{"error", "io.trueno.zram.NoSuchDevice"}, {"parameters", {{"id", 7}}}});
    auto parsed_err = parse_reply(to_json(err).dump());
    REQUIRE(parsed_err.ok());
    REQUIRE(parsed_err->is_error());
    CHECK(*parsed_err->error == "io.trueno.zram.NoSuchDevice");
}

TEST_CASE("malformed replies are refused") {
    CHECK_FALSE(parse_reply("[]").ok());
    CHECK_FALSE(parse_reply(R"({"error":3})").ok());
    CHECK_FALSE(parse_reply(R"({"parameters":[]})").ok());
    CHECK_FALSE(parse_reply(R"({"continues":"no"})").ok());
}

TEST_CASE("calls serialise with only the flags that are set") {
    Call c;
    c.method = "a.B";
    CHECK(to_json(c) == Json{{"method", "a.B"}});
    c.oneway = true;
    c.parameters = {{"k", "v"}};
    CHECK(to_json(c) == Json{{"method", "a.B"}, {"parameters", {{"k", "v"}}}, {"oneway", true}});
}

namespace {

// A call whose parameters hold `depth` nested arrays: the message itself is 2 deeper.
std::string nested_call(std::size_t depth) {
    return R"({"method":"a.B","parameters":{"x":)" + std::string(depth, '[') +
           std::string(depth, ']') + "}}";
}

} // namespace

// Found while writing tests/fuzz/varlink_message (its property copies what was parsed): a
// 200 KB message of 100000 nested arrays overflowed the stack in nlohmann::json's recursive
// copy, and the daemon's socket is open to every user.
TEST_CASE("messages nested deeper than max_nesting are refused, without recursion") {
    for (std::size_t depth : {std::size_t{100000}, max_nesting - 1}) {
        INFO("depth " << depth + 2);
        auto c = parse_call(nested_call(depth));
        REQUIRE_FALSE(c.ok());
        CHECK(c.error().code == EINVAL);
        CHECK(c.error().message.find("nests") != std::string::npos);
        auto r = parse_reply(R"({"parameters":{"x":)" + std::string(depth, '[') +
                             std::string(depth, ']') + "}}");
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == EINVAL);
    }
    auto deepest = parse_call(nested_call(max_nesting - 2)); // exactly max_nesting
    REQUIRE(deepest.ok());
    CHECK(deepest->parameters["x"].is_array());
    // Brackets inside strings, escaped quotes included, are text, not nesting.
    const std::string brackets(1000, '[');
    auto quoted =
        parse_call(R"({"method":"a.B","parameters":{"s":"\"\\)" + brackets + R"(\"","t":"]]]"}})");
    INFO((quoted.ok() ? "" : quoted.error().message));
    REQUIRE(quoted.ok());
    CHECK(quoted->parameters["s"] == "\"\\" + brackets + "\"");
}
