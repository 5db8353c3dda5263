// Every codec at several levels: corpus and edge pages come back byte for byte, and a result
// that does not fit the output buffer is reported as 0, never written past the end.
#include <catch2/catch.hpp>

#include "codec_checks.hpp"

using namespace trueno;
using namespace trueno::test;

namespace {

void check_round_trip(Codec& codec, const Page& page, std::size_t capacity) {
    const auto compressed = compress_checked(codec, page, capacity);
    if (compressed.empty()) return; // did not fit: the caller stores it raw
    Page back;
    const Status status = decompress_checked(codec, compressed, back);
    INFO(codec.name() << " level " << codec.level() << ": "
                      << (status ? "" : status.error().message));
    REQUIRE(status.ok());
    REQUIRE(back == page);
}

} // namespace

TEST_CASE("every codec round-trips the corpus pages at several levels", "[codec][corpus]") {
    const Corpus& corpus = test_corpus();
    require_pages(corpus);
    const std::size_t count = std::min<std::size_t>(corpus.pages.size(), 1000);
    for (const CodecInfo& info : available_codecs()) {
        for (int level : levels_to_test(info)) {
            auto codec = make_or_fail(info.name, level_params(info, level));
            REQUIRE(codec->name() == info.name);
            REQUIRE(codec->level() == (info.has_level ? level : 0));
            std::size_t in = 0, out = 0;
            for (std::size_t i = 0; i < count; ++i) {
                const Page& page = corpus.pages[i];
                const auto compressed = compress_checked(*codec, page, kPageSize);
                Page back;
                if (compressed.empty()) {
                    out += kPageSize;
                } else {
                    const Status status = decompress_checked(*codec, compressed, back);
                    INFO(info.name << " level " << level << " page " << i << ": "
                                   << (status ? "" : status.error().message));
                    REQUIRE(status.ok());
                    REQUIRE(back == page);
                    out += compressed.size();
                }
                in += kPageSize;
            }
            INFO(info.name << " level " << level << " ratio " << double(in) / double(out));
            CHECK(out < in); // every codec at every level gains something on real heap pages
            if (level == info.default_level) CHECK(out < in * 3 / 4);
        }
    }
}

TEST_CASE("every codec round-trips edge pages", "[codec][edge]") {
    for (const CodecInfo& info : available_codecs()) {
        for (int level : levels_to_test(info)) {
            auto codec = make_or_fail(info.name, level_params(info, level));
            for (const auto& [label, page] : edge_pages()) {
                INFO(info.name << " level " << level << ", " << label);
                check_round_trip(*codec, page, kPageSize);
                check_round_trip(*codec, page, 2 * kPageSize); // room for incompressible pages
            }
        }
    }
}

TEST_CASE("incompressible pages: fit with room, report 0 without", "[codec][edge]") {
    const Page random = random_page(1234);
    for (const CodecInfo& info : available_codecs()) {
        INFO(info.name);
        auto codec = make_or_fail(info.name);
        // Worst-case expansion of all these codecs on one page is well under a page.
        const auto expanded = compress_checked(*codec, random, 2 * kPageSize);
        REQUIRE(expanded.size() > kPageSize);
        Page back;
        REQUIRE(decompress_checked(*codec, expanded, back).ok());
        REQUIRE(back == random);
        REQUIRE(compress_checked(*codec, random, kPageSize).empty());
    }
}

TEST_CASE("compressing into a too-small buffer returns 0", "[codec][bounds]") {
    const auto pages = edge_pages();
    std::vector<Page> samples;
    for (const auto& [label, page] : pages)
        if (label == "text" || label == "half zero, half random" || label == "period 1000")
            samples.push_back(page);
    const Corpus& corpus = test_corpus();
    for (std::size_t i = 0; i < std::min<std::size_t>(corpus.pages.size(), 20); ++i)
        samples.push_back(corpus.pages[i]);

    for (const CodecInfo& info : available_codecs()) {
        auto codec = make_or_fail(info.name);
        for (const Page& page : samples) {
            const auto fits = compress_checked(*codec, page, kPageSize);
            if (fits.empty()) continue;
            const std::size_t n = fits.size();
            INFO(info.name << ", compressed size " << n);
            for (std::size_t capacity : {n - 1, n / 2, std::size_t{1}, std::size_t{0}})
                REQUIRE(compress_checked(*codec, page, capacity).empty());
            // The stream must still work after refusing.
            check_round_trip(*codec, page, kPageSize);
        }
    }
}

TEST_CASE("streams are independent and reusable across codecs", "[codec]") {
    const Page text = edge_pages().back().second;
    for (const CodecInfo& info : available_codecs()) {
        auto a = make_or_fail(info.name);
        auto b = make_or_fail(info.name);
        const auto compressed = compress_checked(*a, text, kPageSize);
        REQUIRE_FALSE(compressed.empty());
        Page back;
        REQUIRE(decompress_checked(*b, compressed, back).ok()); // any stream decodes any page
        REQUIRE(back == text);
        // Same input, same stream state after reuse: identical output (no leftover history).
        REQUIRE(compress_checked(*a, text, kPageSize) == compressed);
    }
}
