// Shared checks for the codec tests: compress and decompress with guard bytes past the end of
// every output buffer, so a codec that writes out of bounds fails even without a sanitizer.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "trueno/codec.hpp"
#include "test_pages.hpp"

namespace trueno::test {

inline constexpr std::size_t kGuardBytes = 64;
inline constexpr std::byte kGuard{0xA5};

inline bool guard_intact(const std::vector<std::byte>& buffer, std::size_t used) {
    return std::all_of(buffer.begin() + static_cast<std::ptrdiff_t>(used), buffer.end(),
                       [](std::byte b) { return b == kGuard; });
}

// Compressed bytes in a vector of exactly their size (so ASan sees reads past the end), or an
// empty vector when the codec said it does not fit in `capacity`.
inline std::vector<std::byte> compress_checked(Codec& codec, std::span<const std::byte> src,
                                               std::size_t capacity) {
    std::vector<std::byte> buffer(capacity + kGuardBytes, kGuard);
    const std::size_t n = codec.compress(src, std::span(buffer.data(), capacity));
    REQUIRE(n <= capacity);
    REQUIRE(guard_intact(buffer, capacity));
    buffer.resize(n);
    return buffer;
}

// Decompresses into a page followed by guard bytes; returns the status and the page.
inline Status decompress_checked(Codec& codec, std::span<const std::byte> src, Page& out) {
    std::vector<std::byte> buffer(kPageSize + kGuardBytes, kGuard);
    Status status = codec.decompress(src, std::span(buffer.data(), kPageSize));
    REQUIRE(guard_intact(buffer, kPageSize));
    std::memcpy(out.data(), buffer.data(), kPageSize);
    return status;
}

// The pages of a corpus (test_corpus() or spread_corpus()), at least at_least of them, for a
// test tagged [corpus]; the test fails without them (tests/corpus_main.cpp leaves [corpus]
// tests out, and reports the run as skipped, when the corpus is missing).
inline const std::vector<Page>& require_pages(const Corpus& corpus, std::size_t at_least = 1) {
    INFO((corpus.missing_reason.empty() ? "corpus too short" : corpus.missing_reason));
    REQUIRE(corpus.pages.size() >= at_least);
    return corpus.pages;
}

inline std::unique_ptr<Codec> make_or_fail(std::string_view name, const CodecParams& params = {}) {
    auto codec = make_codec(name, params);
    INFO(std::string(name) << ": " << (codec ? "" : codec.error().message));
    REQUIRE(codec.ok());
    return std::move(*codec);
}

// A few levels across each codec's range, always including the default.
inline std::vector<int> levels_to_test(const CodecInfo& info) {
    if (!info.has_level) return {info.default_level};
    std::vector<int> levels{info.default_level, info.min_level, info.max_level};
    if (info.name == "zstd") levels = {3, -5, 1, 9, 19};
    if (info.name == "lz4" || info.name == "adaptive") levels = {1, 8, 65537};
    std::sort(levels.begin(), levels.end());
    levels.erase(std::unique(levels.begin(), levels.end()), levels.end());
    return levels;
}

inline CodecParams level_params(const CodecInfo& info, int level) {
    CodecParams params;
    if (info.has_level) params.level = level;
    return params;
}

} // namespace trueno::test
