// Corpus loading: raw and zstd input detected by magic bytes, page limits, and clear errors for
// partial pages, corrupt or truncated streams, and missing files.
#include <zstd.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <vector>

#include "page_corpus.hpp"
#include "temp_file.hpp"

using namespace trueno;
using namespace trueno::bench;
using trueno::bench::test::TempFile;

namespace {

// Pages whose contents differ page to page and byte to byte, so any shift or mix-up shows.
std::vector<std::byte> make_pages(std::size_t count) {
    std::vector<std::byte> bytes(count * kPageSize);
    std::uint32_t x = 12345;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        x = x * 1103515245u + 12345u;
        // Half the bytes compressible, half noisy: a realistic mix for zstd.
        bytes[i] = static_cast<std::byte>((i / 64) % 2 ? (x >> 24) : (i / kPageSize));
    }
    return bytes;
}

std::vector<std::byte> zstd_compress(std::span<const std::byte> data, bool with_content_size = true) {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    REQUIRE(cctx != nullptr);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, with_content_size ? 1 : 0);
    std::vector<std::byte> out(ZSTD_compressBound(data.size()));
    std::size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
    ZSTD_freeCCtx(cctx);
    REQUIRE_FALSE(ZSTD_isError(n));
    out.resize(n);
    return out;
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size()) == 0;
}

} // namespace

TEST_CASE("zstd magic is recognised from the first four bytes") {
    const std::byte magic[] = {std::byte{0x28}, std::byte{0xb5}, std::byte{0x2f}, std::byte{0xfd}, std::byte{0}};
    CHECK(has_zstd_magic(magic));
    CHECK_FALSE(has_zstd_magic(std::span(magic).first(3)));
    const std::byte other[] = {std::byte{0x28}, std::byte{0xb5}, std::byte{0x2f}, std::byte{0xfe}};
    CHECK_FALSE(has_zstd_magic(other));
}

TEST_CASE("a raw page file loads byte for byte") {
    auto pages = make_pages(37);
    TempFile file(pages);
    auto corpus = load_corpus(file.path());
    REQUIRE(corpus.ok());
    CHECK(corpus->format() == CorpusFormat::raw);
    CHECK(corpus->page_count() == 37);
    CHECK(same_bytes(corpus->bytes(), pages));
}

TEST_CASE("a zstd stream is detected by its magic, not its name, and decompressed") {
    auto pages = make_pages(300); // > 1 MiB so several decoder output chunks are needed
    auto with_size = GENERATE(true, false);
    TempFile file(zstd_compress(pages, with_size)); // named trueno-bench-test-XXXXXX, no .zst
    auto corpus = load_corpus(file.path());
    REQUIRE(corpus.ok());
    CHECK(corpus->format() == CorpusFormat::zstd);
    CHECK(corpus->page_count() == 300);
    CHECK(same_bytes(corpus->bytes(), pages));
}

TEST_CASE("several concatenated zstd frames are one corpus") {
    auto pages = make_pages(20);
    auto stream = zstd_compress(std::span(pages).first(8 * kPageSize));
    auto second = zstd_compress(std::span(pages).subspan(8 * kPageSize));
    stream.insert(stream.end(), second.begin(), second.end());
    TempFile file(stream);
    auto corpus = load_corpus(file.path());
    REQUIRE(corpus.ok());
    CHECK(same_bytes(corpus->bytes(), pages));
}

TEST_CASE("a page limit loads only the first pages") {
    auto pages = make_pages(50);
    SECTION("raw") {
        TempFile file(pages);
        auto corpus = load_corpus(file.path(), CorpusOptions{.page_limit = 7, .on_progress = {}});
        REQUIRE(corpus.ok());
        CHECK(corpus->page_count() == 7);
        CHECK(same_bytes(corpus->bytes(), std::span(pages).first(7 * kPageSize)));
    }
    SECTION("zstd") {
        TempFile file(zstd_compress(pages));
        auto corpus = load_corpus(file.path(), CorpusOptions{.page_limit = 7, .on_progress = {}});
        REQUIRE(corpus.ok());
        CHECK(corpus->page_count() == 7);
        CHECK(same_bytes(corpus->bytes(), std::span(pages).first(7 * kPageSize)));
    }
    SECTION("a limit larger than the file is the whole file") {
        TempFile file(pages);
        auto corpus = load_corpus(file.path(), CorpusOptions{.page_limit = 1000, .on_progress = {}});
        REQUIRE(corpus.ok());
        CHECK(corpus->page_count() == 50);
    }
}

TEST_CASE("a trailing partial page is an error that says so") {
    auto pages = make_pages(3);
    pages.resize(pages.size() + 100);
    SECTION("raw") {
        TempFile file(pages);
        auto corpus = load_corpus(file.path());
        REQUIRE_FALSE(corpus.ok());
        CHECK(corpus.error().code == EINVAL);
        CHECK_THAT(corpus.error().message, Catch::Contains("partial page") && Catch::Contains("100 bytes"));
    }
    SECTION("zstd") {
        TempFile file(zstd_compress(pages));
        auto corpus = load_corpus(file.path());
        REQUIRE_FALSE(corpus.ok());
        CHECK_THAT(corpus.error().message, Catch::Contains("partial page"));
    }
}

TEST_CASE("corrupt, truncated, empty and missing inputs are clear errors") {
    auto pages = make_pages(40);
    auto stream = zstd_compress(pages);
    SECTION("truncated stream") {
        stream.resize(stream.size() / 2);
        TempFile file(stream);
        auto corpus = load_corpus(file.path());
        REQUIRE_FALSE(corpus.ok());
        CHECK_THAT(corpus.error().message, Catch::Contains("zstd"));
    }
    SECTION("corrupt stream") {
        for (std::size_t i = 20; i < stream.size(); i += 7) stream[i] ^= std::byte{0x5a};
        TempFile file(stream);
        auto corpus = load_corpus(file.path());
        REQUIRE_FALSE(corpus.ok());
        CHECK_THAT(corpus.error().message, Catch::Contains("zstd"));
    }
    SECTION("empty file") {
        TempFile file(std::span<const std::byte>{});
        auto corpus = load_corpus(file.path());
        REQUIRE_FALSE(corpus.ok());
        CHECK_THAT(corpus.error().message, Catch::Contains("empty"));
    }
    SECTION("missing file") {
        auto corpus = load_corpus("/nonexistent/trueno-bench-corpus");
        REQUIRE_FALSE(corpus.ok());
        CHECK(corpus.error().code == ENOENT);
        CHECK_THAT(corpus.error().message, Catch::Contains("/nonexistent/trueno-bench-corpus"));
    }
}
