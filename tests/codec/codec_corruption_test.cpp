// Corrupted, truncated and garbage input: every codec reports EIO or decodes to some page, and
// never reads or writes out of bounds (guard bytes here, ASan/UBSan in the sanitizer build).
#include <catch2/catch.hpp>

#include <random>

#include "codec_checks.hpp"

using namespace trueno;
using namespace trueno::test;

namespace {

std::vector<Page> sample_pages() {
    std::vector<Page> pages;
    for (const auto& [label, page] : edge_pages())
        if (label == "text" || label == "half zero, half random" || label == "period 7")
            pages.push_back(page);
    const Corpus& corpus = test_corpus();
    for (std::size_t i : {3u, 100u, 777u})
        if (i < corpus.pages.size()) pages.push_back(corpus.pages[i]);
    return pages;
}

// Decodes bytes copied into a buffer of exactly their size; a failure must be EIO with a message.
bool decodes(Codec& codec, std::span<const std::byte> input) {
    const std::vector<std::byte> exact(input.begin(), input.end());
    Page out;
    const Status status = decompress_checked(codec, exact, out);
    if (!status) {
        REQUIRE(status.error().code == EIO);
        REQUIRE_FALSE(status.error().message.empty());
    }
    return status.ok();
}

} // namespace

TEST_CASE("truncated pages are rejected at every length", "[codec][corrupt]") {
    for (const CodecInfo& info : available_codecs()) {
        auto codec = make_or_fail(info.name);
        for (const Page& page : sample_pages()) {
            const auto compressed = compress_checked(*codec, page, kPageSize);
            REQUIRE_FALSE(compressed.empty());
            for (std::size_t len = 0; len < compressed.size(); ++len) {
                INFO(info.name << ": truncated to " << len << " of " << compressed.size());
                // A prefix can never hold the whole page: it must be an error.
                REQUIRE_FALSE(decodes(*codec, std::span(compressed.data(), len)));
            }
            REQUIRE(decodes(*codec, compressed)); // and the stream still works afterwards
        }
    }
}

TEST_CASE("bit flips never crash or overrun", "[codec][corrupt]") {
    for (const CodecInfo& info : available_codecs()) {
        auto codec = make_or_fail(info.name);
        std::size_t flips = 0, rejected = 0;
        for (const Page& page : sample_pages()) {
            auto compressed = compress_checked(*codec, page, kPageSize);
            REQUIRE_FALSE(compressed.empty());
            for (std::size_t bit = 0; bit < compressed.size() * 8; ++bit) {
                compressed[bit / 8] ^= std::byte(1u << (bit % 8));
                if (!decodes(*codec, compressed)) ++rejected;
                compressed[bit / 8] ^= std::byte(1u << (bit % 8));
                ++flips;
            }
            Page back;
            REQUIRE(decompress_checked(*codec, compressed, back).ok());
            REQUIRE(back == page);
        }
        // None of these formats carries a checksum, so a flip inside a literal decodes to a
        // different page; flips in the structure must still be caught.
        INFO(info.name << ": " << rejected << " of " << flips << " bit flips rejected");
        CHECK(rejected > 0);
    }
}

TEST_CASE("garbage input is rejected or decodes within bounds", "[codec][corrupt]") {
    std::mt19937 rng(2024);
    for (const CodecInfo& info : available_codecs()) {
        auto codec = make_or_fail(info.name);
        REQUIRE_FALSE(decodes(*codec, {}));                      // empty input
        std::size_t rejected = 0;
        constexpr int kTrials = 2000;
        for (int trial = 0; trial < kTrials; ++trial) {
            std::vector<std::byte> garbage(1 + rng() % 5000);
            for (auto& b : garbage) b = static_cast<std::byte>(rng());
            if (!decodes(*codec, garbage)) ++rejected;
        }
        INFO(info.name << ": " << rejected << " of " << kTrials << " garbage inputs rejected");
        CHECK(rejected > kTrials * 9 / 10);
        // Valid data followed by garbage, and valid data of a different size.
        const Page text = edge_pages().back().second;
        auto compressed = compress_checked(*codec, text, kPageSize);
        compressed.push_back(std::byte{0x42});
        compressed.push_back(std::byte{0x00});
        // Bytes past the end of the data mean the stored size is wrong: never accept that.
        REQUIRE_FALSE(decodes(*codec, compressed));
        std::vector<std::byte> half(kPageSize / 2);
        const auto small = codec->compress(std::span(text.data(), kPageSize / 2), half);
        if (small != 0) REQUIRE_FALSE(decodes(*codec, std::span(half.data(), small)));
    }
}
