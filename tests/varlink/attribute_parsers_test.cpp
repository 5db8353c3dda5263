// The zram attributes' text parsers on their own (service/attribute_parsers.hpp): each clause
// of the contract, and the inputs the fuzz target (tests/fuzz) found interesting.
#include "attribute_parsers.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <string>

using namespace trueno;
using namespace trueno::service;

namespace {

template <typename T> int error_of(const Result<T>& r) {
    return r ? 0 : r.error().code;
}

} // namespace

TEST_CASE("strip_newline removes one trailing newline; trim removes white space") {
    CHECK(strip_newline("5\n") == "5");
    CHECK(strip_newline("5\n\n") == "5\n");
    CHECK(strip_newline("") == "");
    CHECK(trim(" \t5 \n") == "5");
    CHECK(trim(" \n\t ") == "");
}

TEST_CASE("kstrto: whole text, one trailing newline, sign rules, base 0") {
    CHECK(*kstrto<int>("42", 10) == 42);
    CHECK(*kstrto<int>("42\n", 10) == 42);
    CHECK(*kstrto<int>("+42", 10) == 42);
    CHECK(*kstrto<int>("-42", 10) == -42);
    CHECK(*kstrto<std::uint64_t>("0x1f", 0) == 31);
    CHECK(*kstrto<std::uint64_t>("0X1F", 0) == 31);
    CHECK(*kstrto<std::uint64_t>("017", 0) == 15);
    CHECK(*kstrto<std::uint64_t>("0", 0) == 0);
    CHECK(*kstrto<std::uint64_t>("17", 0) == 17);
    for (const char* bad :
         {"", "\n", "+", "-", " 1", "1 ", "1\n\n", "4x", "0x", "0xg", "08", "1.5", "--1", "+-1"}) {
        CAPTURE(bad);
        CHECK(error_of(kstrto<int>(bad, 0)) == EINVAL);
        CHECK(error_of(kstrto<std::uint64_t>(bad, 0)) == EINVAL);
    }
    CHECK(error_of(kstrto<std::uint32_t>("-1", 10)) == EINVAL); // no '-' for unsigned types
    CHECK(error_of(kstrto<std::uint64_t>("-0", 10)) == EINVAL);
}

TEST_CASE("kstrto: ERANGE exactly beyond each type's limits") {
    CHECK(*kstrto<int>("2147483647", 10) == 2147483647);
    CHECK(*kstrto<int>("-2147483648", 10) == -2147483647 - 1);
    CHECK(error_of(kstrto<int>("2147483648", 10)) == ERANGE);
    CHECK(error_of(kstrto<int>("-2147483649", 10)) == ERANGE);
    CHECK(*kstrto<std::uint32_t>("4294967295", 10) == 4294967295u);
    CHECK(error_of(kstrto<std::uint32_t>("4294967296", 10)) == ERANGE);
    CHECK(*kstrto<std::uint64_t>("18446744073709551615", 10) == UINT64_MAX);
    CHECK(error_of(kstrto<std::uint64_t>("18446744073709551616", 10)) == ERANGE);
    CHECK(error_of(kstrto<std::uint64_t>("0x10000000000000000", 0)) == ERANGE);
    CHECK(error_of(kstrto<std::uint64_t>("99999999999999999999999", 0)) == ERANGE);
}

TEST_CASE("memparse: base 0 number, one binary suffix, white space around, nothing else") {
    CHECK(*memparse("4096") == 4096);
    CHECK(*memparse(" 1G\n") == (1ull << 30));
    CHECK(*memparse("1k") == 1024);
    CHECK(*memparse("0x10M") == (16ull << 20));
    CHECK(*memparse("010") == 8);
    CHECK(*memparse("15E") == (15ull << 60));
    for (const char* bad : {"", " ", "G", "1GB", "1 G", "-1", "+1", "1.5G", "1X"}) {
        CAPTURE(bad);
        CHECK(error_of(memparse(bad)) == EINVAL);
    }
    CHECK(error_of(memparse("16E")) == ERANGE);
    CHECK(error_of(memparse("18446744073709551616")) == ERANGE);
    CHECK(*memparse("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("split_args: tokens, first '=', quotes, empty values") {
    auto args = split_args("  algo=zstd\tpriority=2\n dict=\"/a b/c\" x=y=z ");
    REQUIRE(args);
    REQUIRE(args->size() == 4);
    CHECK(((*args)[0].key == "algo" && (*args)[0].value == "zstd"));
    CHECK(((*args)[1].key == "priority" && (*args)[1].value == "2"));
    CHECK(((*args)[2].key == "dict" && (*args)[2].value == "/a b/c"));
    CHECK(((*args)[3].key == "x" && (*args)[3].value == "y=z"));
    auto quoted_key = split_args("\"k=v\"");
    REQUIRE(quoted_key);
    CHECK(((*quoted_key)[0].key == "\"k" && (*quoted_key)[0].value == "v"));
    auto empty_key = split_args("=v");
    REQUIRE(empty_key);
    CHECK(((*empty_key)[0].key.empty() && (*empty_key)[0].value == "v"));
    REQUIRE(split_args(" \n"));
    CHECK(split_args(" \n")->empty());
    for (const char* bad : {"key", "key=", "key=\"\"", "a=1 b", "k=\"v", "\""}) {
        CAPTURE(bad);
        CHECK(error_of(split_args(bad)) == EINVAL);
    }
}

TEST_CASE("parse_writeback: 6.12's words, 6.16's tokens, ranges and their errors") {
    using Type = WritebackOptions::Type;
    auto one = [](const char* text, Type type, std::uint64_t first, std::uint64_t last) {
        CAPTURE(text);
        auto passes = parse_writeback(text, 100);
        REQUIRE(passes);
        REQUIRE(passes->size() == 1);
        CHECK((*passes)[0].type == type);
        CHECK((*passes)[0].first_page == first);
        CHECK((*passes)[0].last_page == last);
    };
    one("idle", Type::idle, 0, 99);
    one("huge\n", Type::huge, 0, 99);
    one("huge_idle", Type::huge_idle, 0, 99);
    one("incompressible", Type::incompressible, 0, 99);
    one("type=huge", Type::huge, 0, 99);
    one("page_index=7", Type::any, 7, 7);
    one("page_indexes=3-9", Type::any, 3, 9);
    one("page_indexes=99-99", Type::any, 99, 99);

    // Several ranges; a mode applies to the last one and ends the list.
    auto passes = parse_writeback("page_index=1 page_indexes=10-20 type=idle page_index=50", 100);
    REQUIRE(passes);
    REQUIRE(passes->size() == 3);
    CHECK(((*passes)[0].first_page == 1 && (*passes)[0].last_page == 1));
    CHECK(((*passes)[1].type == Type::any && (*passes)[1].first_page == 10 &&
           (*passes)[1].last_page == 20));
    CHECK(((*passes)[2].type == Type::idle && (*passes)[2].first_page == 10 &&
           (*passes)[2].last_page == 20));
    REQUIRE(parse_writeback(" \n", 100));
    CHECK(parse_writeback(" \n", 100)->empty());

    for (const char* bad :
         {"lazy", "type=lazy", "type=", "page_index=", "page_index=x", "page_indexes=5",
          "page_indexes=-5", "page_indexes=1-", "colour=red", "IDLE"}) {
        CAPTURE(bad);
        CHECK(error_of(parse_writeback(bad, 100)) == EINVAL);
    }
    for (const char* far : {"page_index=100", "page_indexes=50-100", "page_indexes=100-100",
                            "page_indexes=9-3", "page_index=99999999999999999999"}) {
        CAPTURE(far);
        CHECK(error_of(parse_writeback(far, 100)) == ERANGE);
    }
}
