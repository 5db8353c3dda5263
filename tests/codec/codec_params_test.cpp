// parse_codec_params and make_codec: accepted forms, and a clear error for every bad input.
#include <catch2/catch.hpp>

#include <lz4hc.h>
#include <zstd.h>

#include <filesystem>

#include "codec_checks.hpp"
#include "temp_file.hpp"

using namespace trueno;
using namespace trueno::test;

namespace {

std::string expected_names() {
    std::string names;
#ifdef TRUENO_HAVE_LZO
    names += "lzo lzo-rle ";
#endif
    names += "lz4 lz4hc zstd";
#ifdef TRUENO_HAVE_ZLIB
    names += " deflate";
#endif
    names += " adaptive"; // ours, after the kernel's names
    return names;
}

Error parse_error(std::string_view text) {
    auto params = parse_codec_params(text);
    INFO("input '" << text << "'");
    REQUIRE_FALSE(params.ok());
    REQUIRE_FALSE(params.error().message.empty());
    return params.error();
}

Error make_error_for(std::string_view name, const CodecParams& params) {
    auto codec = make_codec(name, params);
    REQUIRE_FALSE(codec.ok());
    return codec.error();
}

} // namespace

TEST_CASE("available codecs are listed in the kernel's order", "[codec][params]") {
    REQUIRE(available_codec_names() == expected_names());
    std::string joined;
    for (const CodecInfo& info : available_codecs())
        joined += (joined.empty() ? "" : " ") + std::string(info.name);
    REQUIRE(joined == expected_names());
#if defined(TRUENO_HAVE_LZO) && defined(TRUENO_HAVE_ZLIB)
    REQUIRE(available_codec_names() == "lzo lzo-rle lz4 lz4hc zstd deflate adaptive");
#endif
}

TEST_CASE("codec ranges and defaults match the libraries and the kernel", "[codec][params]") {
    REQUIRE(find_codec("nope") == nullptr);
    const CodecInfo* zstd = find_codec("zstd");
    REQUIRE(zstd);
    CHECK(zstd->default_level == 3);
    CHECK(zstd->min_level == ZSTD_minCLevel());
    CHECK(zstd->max_level == ZSTD_maxCLevel());
    CHECK(zstd->has_dictionary);
    const CodecInfo* lz4hc = find_codec("lz4hc");
    REQUIRE(lz4hc);
    CHECK(lz4hc->default_level == 9);
    CHECK(lz4hc->min_level == LZ4HC_CLEVEL_MIN);
    CHECK(lz4hc->max_level == LZ4HC_CLEVEL_MAX);
    const CodecInfo* lz4 = find_codec("lz4");
    REQUIRE(lz4);
    CHECK(lz4->default_level == 1);
    CHECK_FALSE(lz4->has_dictionary);
    for (const CodecInfo& info : available_codecs()) {
        auto codec = make_or_fail(info.name);
        CHECK(codec->name() == info.name);
        CHECK(codec->level() == info.default_level);
    }
#ifdef TRUENO_HAVE_ZLIB
    REQUIRE(find_codec("deflate"));
    CHECK(find_codec("deflate")->default_level == 6);
#endif
}

TEST_CASE("parse_codec_params accepts the kernel's forms", "[codec][params]") {
    auto empty = parse_codec_params("");
    REQUIRE(empty.ok());
    CHECK_FALSE(empty->level);
    CHECK_FALSE(empty->dictionary);

    for (std::string_view text : {"level=5", " level=5 ", "level=5,", ",level=5"}) {
        auto p = parse_codec_params(text);
        INFO(text);
        REQUIRE(p.ok());
        REQUIRE(p->level == 5);
    }
    auto negative = parse_codec_params("level=-7");
    REQUIRE(negative.ok());
    CHECK(negative->level == -7);

    const std::vector<std::byte> dict_bytes(1000, std::byte{'d'});
    TempFile dict(dict_bytes);
    for (const std::string& text : {"level=9 dict=" + dict.path(), "dict=" + dict.path() + ",level=9",
                                    "level=9, dict=" + dict.path()}) {
        INFO(text);
        auto p = parse_codec_params(text);
        REQUIRE(p.ok());
        CHECK(p->level == 9);
        CHECK(p->dict_path == dict.path());
        REQUIRE(p->dictionary);
        CHECK(*p->dictionary == dict_bytes);
    }
}

TEST_CASE("parse_codec_params rejects bad input clearly", "[codec][params]") {
    CHECK(parse_error("level=").code == EINVAL);
    CHECK(parse_error("level=abc").message.find("abc") != std::string::npos);
    CHECK(parse_error("level=3x").code == EINVAL);
    CHECK(parse_error("level=1.5").code == EINVAL);
    CHECK(parse_error("level=99999999999999").message.find("out of range") != std::string::npos);
    CHECK(parse_error("level").code == EINVAL);
    CHECK(parse_error("level=1 level=2").message.find("twice") != std::string::npos);
    const Error unknown = parse_error("speed=3");
    CHECK(unknown.code == EINVAL);
    CHECK(unknown.message.find("speed") != std::string::npos);
    CHECK(parse_error("dict=").code == EINVAL);

    const Error missing = parse_error("dict=/nonexistent/trueno/dictionary");
    CHECK(missing.code == ENOENT);
    CHECK(missing.message.find("/nonexistent/trueno/dictionary") != std::string::npos);
    CHECK(parse_error("dict=" + std::filesystem::temp_directory_path().string()).code == EINVAL);
    TempFile empty_file(std::span<const std::byte>{});
    CHECK(parse_error("dict=" + empty_file.path()).message.find("empty") != std::string::npos);
}

TEST_CASE("make_codec rejects unknown names, bad levels and misplaced dictionaries",
          "[codec][params]") {
    const Error unknown = make_error_for("x", {});
    CHECK(unknown.code == EINVAL);
    CHECK(unknown.message ==
          "unknown compression algorithm 'x'; available: " + expected_names());
    CHECK(make_error_for("", {}).code == EINVAL);
    CHECK(make_error_for("ZSTD", {}).code == EINVAL); // names are exact, as the kernel's

    CodecParams level13;
    level13.level = 13;
    const Error hc = make_error_for("lz4hc", level13);
    CHECK(hc.code == EINVAL);
    CHECK(hc.message.find("3..12") != std::string::npos);
    CodecParams level23;
    level23.level = 23;
    CHECK(make_error_for("zstd", level23).message.find("..22") != std::string::npos);
    CodecParams level0;
    level0.level = 0;
    CHECK(make_error_for("lz4", level0).message.find("1..65537") != std::string::npos);
    CHECK(make_error_for("adaptive", level0).message.find("1..65537") != std::string::npos);
#ifdef TRUENO_HAVE_ZLIB
    CHECK(make_error_for("deflate", level0).message.find("1..9") != std::string::npos);
#endif
#ifdef TRUENO_HAVE_LZO
    CodecParams level1;
    level1.level = 1;
    CHECK(make_error_for("lzo", level1).message.find("no compression level") != std::string::npos);
#endif

    CodecParams with_dict;
    with_dict.dictionary = std::make_shared<const std::vector<std::byte>>(100, std::byte{1});
    with_dict.dict_path = "/some/dict";
    const Error dict = make_error_for("lz4", with_dict);
    CHECK(dict.code == EINVAL);
    CHECK(dict.message.find("dictionary") != std::string::npos);
    CHECK(make_error_for("adaptive", with_dict).code == EINVAL);
    CodecParams unloaded;
    unloaded.dict_path = "/some/dict";
    CHECK(make_error_for("zstd", unloaded).code == EINVAL);

    for (const CodecInfo& info : available_codecs()) {
        if (!info.has_level) continue;
        for (int level : {info.min_level, info.max_level}) {
            auto codec = make_codec(info.name, level_params(info, level));
            INFO(info.name << " " << level);
            REQUIRE(codec.ok());
            CHECK((*codec)->level() == level);
        }
    }
}
