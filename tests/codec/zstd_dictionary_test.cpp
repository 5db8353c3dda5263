// zstd with dict=PATH: a dictionary trained on corpus pages (and a raw one) round-trips between
// streams, improves the ratio on unseen pages, and is really needed to decode.
#include <catch2/catch.hpp>

#include <zdict.h>

#include <thread>

#include "codec_checks.hpp"
#include "shared_dictionary.hpp" // internal: to see that digests are shared
#include "temp_file.hpp"

using namespace trueno;
using namespace trueno::test;

namespace {

std::vector<std::byte> train_dictionary(const std::vector<Page>& pages, std::size_t first,
                                        std::size_t count) {
    std::vector<std::byte> samples(count * kPageSize);
    std::vector<std::size_t> sizes(count, kPageSize);
    for (std::size_t i = 0; i < count; ++i)
        std::memcpy(samples.data() + i * kPageSize, pages[first + i].data(), kPageSize);
    std::vector<std::byte> dict(32 * 1024);
    const std::size_t n = ZDICT_trainFromBuffer(dict.data(), dict.size(), samples.data(),
                                                sizes.data(), static_cast<unsigned>(count));
    INFO((ZDICT_isError(n) ? ZDICT_getErrorName(n) : "trained"));
    REQUIRE_FALSE(ZDICT_isError(n));
    dict.resize(n);
    return dict;
}

// Compressed size of pages [first, first+count) (raw pages counted as a page), checking that
// `decoder` restores each one.
std::size_t compressed_total(Codec& encoder, Codec& decoder, const std::vector<Page>& pages,
                             std::size_t first, std::size_t count) {
    std::size_t total = 0;
    for (std::size_t i = first; i < first + count; ++i) {
        const auto compressed = compress_checked(encoder, pages[i], kPageSize);
        if (compressed.empty()) {
            total += kPageSize;
            continue;
        }
        Page back;
        const Status status = decompress_checked(decoder, compressed, back);
        INFO("page " << i << ": " << (status ? "" : status.error().message));
        REQUIRE(status.ok());
        REQUIRE(back == pages[i]);
        total += compressed.size();
    }
    return total;
}

} // namespace

TEST_CASE("zstd with a trained dictionary file", "[codec][zstd][dict][corpus]") {
    const Corpus& corpus = test_corpus();
    require_pages(corpus, kCorpusTestPages);
    const auto dict_bytes = train_dictionary(corpus.pages, 0, 2000);
    TempFile dict_file(dict_bytes);

    for (int level : {3, 1, 19}) {
        auto params = parse_codec_params("level=" + std::to_string(level) +
                                         " dict=" + dict_file.path());
        REQUIRE(params.ok());
        REQUIRE(params->dictionary);
        REQUIRE(params->dictionary->size() == dict_bytes.size());
        auto encoder = make_or_fail("zstd", *params);
        auto decoder = make_or_fail("zstd", *params); // a second stream sharing the dictionary
        auto plain = make_or_fail("zstd", level_params(*find_codec("zstd"), level));

        const std::size_t with_dict = compressed_total(*encoder, *decoder, corpus.pages, 2000, 1000);
        const std::size_t without = compressed_total(*plain, *plain, corpus.pages, 2000, 1000);
        INFO("level " << level << ": " << with_dict << " bytes with dictionary, " << without
                      << " without");
        CHECK(with_dict < without);

        // A page that used the dictionary cannot be decoded without it.
        std::size_t wrong_without_dict = 0, checked = 0;
        for (std::size_t i = 2000; i < 2100; ++i) {
            const auto compressed = compress_checked(*encoder, corpus.pages[i], kPageSize);
            if (compressed.empty()) continue;
            ++checked;
            Page back;
            const Status status = decompress_checked(*plain, compressed, back);
            if (!status.ok() || back != corpus.pages[i]) ++wrong_without_dict;
        }
        CHECK(wrong_without_dict > checked / 2);
    }
}

TEST_CASE("zstd with a raw-content dictionary, loaded or built by hand", "[codec][zstd][dict]") {
    // Raw content: not a trained dictionary, used as shared history.
    std::vector<std::byte> raw;
    for (const auto& [label, page] : edge_pages())
        if (label == "text" || label == "period 64") raw.insert(raw.end(), page.begin(), page.end());
    TempFile raw_file(raw);
    auto params = parse_codec_params("dict=" + raw_file.path());
    REQUIRE(params.ok());

    CodecParams by_hand; // not made by parse_codec_params: the stream digests it itself
    by_hand.dictionary = std::make_shared<const std::vector<std::byte>>(raw);
    by_hand.dict_path = "(in memory)";

    auto a = make_or_fail("zstd", *params);
    auto b = make_or_fail("zstd", by_hand);
    auto plain = make_or_fail("zstd");
    for (const auto& [label, page] : edge_pages()) {
        INFO(label);
        const auto compressed = compress_checked(*a, page, kPageSize);
        if (compressed.empty()) continue;
        Page back;
        REQUIRE(decompress_checked(*b, compressed, back).ok());
        REQUIRE(back == page);
        if (label == "text") {
            const auto without = compress_checked(*plain, page, kPageSize);
            CHECK(compressed.size() < without.size()); // the page is in the dictionary
        }
    }
}

namespace {

// 8 KiB of raw-content dictionary, for the tests of how streams share its digests.
std::vector<std::byte> raw_dictionary() {
    std::vector<std::byte> raw(8192);
    for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::byte>(i * 7 % 251);
    return raw;
}

} // namespace

TEST_CASE("streams made from the same params share one digested dictionary per level",
          "[codec][zstd][dict]") {
    const std::vector<std::byte> raw = raw_dictionary();
    TempFile file(raw);
    auto params = parse_codec_params("dict=" + file.path());
    REQUIRE(params.ok());
    const auto digests = codec_detail::dictionary_digests(params->dictionary);
    CHECK(digests == codec_detail::dictionary_digests(params->dictionary)); // attached, not fresh

    std::vector<std::unique_ptr<Codec>> streams;
    for (int i = 0; i < 4; ++i) streams.push_back(make_or_fail("zstd", *params));
    CHECK(digests->compress_by_level.size() == 1);
    const auto level3 = digests->compress_by_level.at(3);
    REQUIRE(digests->decompress);
    // Each digest is held by the table plus one reference per stream.
    CHECK(level3.use_count() == 1 + 1 + 4);

    CodecParams level9 = *params;
    level9.level = 9;
    streams.push_back(make_or_fail("zstd", level9));
    CHECK(digests->compress_by_level.size() == 2);
    streams.clear();
    CHECK(level3.use_count() == 2); // streams release their references
}

TEST_CASE("compression on demand: a stream that only decompresses never digests the dictionary "
          "for compression",
          "[codec][zstd][dict]") {
    // A recompression generation restored by a store taken over: 0.9 MB of compression digest
    // at level 9 that reading its pages does not need.
    const std::vector<std::byte> raw = raw_dictionary();
    TempFile file(raw);
    auto params = parse_codec_params("level=9 dict=" + file.path());
    REQUIRE(params.ok());
    const auto digests = codec_detail::dictionary_digests(params->dictionary);
    // Pages made by an ordinary stream, with the dictionary.
    Page page{};
    for (std::size_t i = 0; i < page.size(); ++i) page[i] = raw[(i * 3) % raw.size()];
    std::vector<std::byte> frame;
    {
        auto writer = make_or_fail("zstd", *params);
        frame = compress_checked(*writer, page, kPageSize);
    }
    REQUIRE(digests->compress_by_level.at(9).use_count() == 1); // the table's alone now
    digests->compress_by_level.clear(); // as in a new process

    CodecParams on_demand = *params;
    on_demand.compression_on_demand = true;
    auto reader = make_or_fail("zstd", on_demand);
    CHECK(digests->compress_by_level.empty());
    REQUIRE(digests->decompress);
    // Warming reads a frame without touching compression, and the dictionary stays in use.
    CHECK(reader->warm_decompression(page).ok());
    CHECK(digests->compress_by_level.empty());
    Page back{};
    REQUIRE(decompress_checked(*reader, frame, back).ok());
    CHECK(back == page);
    CHECK(digests->compress_by_level.empty());
    // prepare_compression (or the first compress) makes the digest, and its pages read back
    // like any other stream's.
    CHECK(reader->prepare_compression().ok());
    CHECK(digests->compress_by_level.size() == 1);
    const auto again = compress_checked(*reader, page, kPageSize);
    CHECK(digests->compress_by_level.size() == 1);
    CHECK(again == frame);
    auto plain_reader = make_or_fail("zstd", *params);
    REQUIRE(decompress_checked(*plain_reader, again, back).ok());
    CHECK(back == page);
}

TEST_CASE("warm_decompression: every codec reads a page afterwards", "[codec]") {
    Page page{};
    for (std::size_t i = 0; i < page.size(); ++i) page[i] = static_cast<std::byte>((i / 16) % 7);
    for (const auto& info : available_codecs()) {
        INFO(info.name);
        auto codec = make_or_fail(info.name, CodecParams{});
        CHECK(codec->warm_decompression(page).ok());
        const auto frame = compress_checked(*codec, page, kPageSize);
        Page back{};
        REQUIRE(decompress_checked(*codec, frame, back).ok());
        CHECK(back == page);
    }
}

TEST_CASE("malformed and tiny dictionaries give an error or work, never crash",
          "[codec][zstd][dict]") {
    // Starts with the trained-dictionary magic number, then garbage: not loadable.
    std::vector<std::byte> bad{std::byte{0x37}, std::byte{0xA4}, std::byte{0x30}, std::byte{0xEC}};
    for (int i = 0; i < 500; ++i) bad.push_back(static_cast<std::byte>(i * 31));
    TempFile bad_file(bad);
    auto params = parse_codec_params("dict=" + bad_file.path());
    REQUIRE(params.ok()); // the file reads fine; zstd decides whether it is a dictionary
    auto codec = make_codec("zstd", *params);
    REQUIRE_FALSE(codec.ok());
    CHECK(codec.error().code == EINVAL);
    CHECK(codec.error().message.find("dictionary") != std::string::npos);

    const std::vector<std::byte> tiny{std::byte{'x'}};
    TempFile tiny_file(tiny);
    auto tiny_params = parse_codec_params("dict=" + tiny_file.path());
    REQUIRE(tiny_params.ok());
    auto tiny_codec = make_or_fail("zstd", *tiny_params);
    const Page text = edge_pages().back().second;
    const auto compressed = compress_checked(*tiny_codec, text, kPageSize);
    REQUIRE_FALSE(compressed.empty());
    Page back;
    REQUIRE(decompress_checked(*tiny_codec, compressed, back).ok());
    REQUIRE(back == text);
}

TEST_CASE("streams with a shared dictionary are created and used from several threads",
          "[codec][zstd][dict]") {
    std::vector<std::byte> raw;
    for (const auto& [label, page] : edge_pages())
        if (label == "text" || label == "period 1000") raw.insert(raw.end(), page.begin(), page.end());
    TempFile file(raw);
    auto params = parse_codec_params("dict=" + file.path());
    REQUIRE(params.ok());
    const Page text = edge_pages().back().second;

    std::vector<int> failures(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < failures.size(); ++t) {
        threads.emplace_back([&, t] {
            auto codec = make_codec("zstd", *params);
            if (!codec) {
                ++failures[t];
                return;
            }
            std::vector<std::byte> out(kPageSize);
            Page back;
            for (int i = 0; i < 200; ++i) {
                const std::size_t n = (*codec)->compress(text, out);
                if (n == 0 || !(*codec)->decompress(std::span(out.data(), n), back) ||
                    back != text)
                    ++failures[t];
            }
        });
    }
    for (auto& thread : threads) thread.join();
    CHECK(failures == std::vector<int>(4, 0));
    CHECK(codec_detail::dictionary_digests(params->dictionary)->compress_by_level.size() == 1);
}
