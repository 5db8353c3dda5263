// Reads corpus pages with libzstd's streaming decoder and builds the edge pages.
#include "test_pages.hpp"

#include <zstd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

namespace trueno::test {
namespace {

struct FileClose {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
struct DStreamFree {
    void operator()(ZSTD_DStream* d) const noexcept { ZSTD_freeDStream(d); }
};

// Keeps every `stride`-th page, up to `want` pages.
Corpus load_corpus(const char* path, std::size_t want, std::size_t stride) {
    Corpus corpus;
    std::unique_ptr<std::FILE, FileClose> file(std::fopen(path, "rb"));
    if (!file) {
        corpus.missing_reason = std::string("corpus ") + path + " cannot be opened: " +
                                std::strerror(errno);
        return corpus;
    }
    std::unique_ptr<ZSTD_DStream, DStreamFree> stream(ZSTD_createDStream());
    std::vector<std::byte> in(ZSTD_DStreamInSize());
    std::vector<std::byte> pending; // decoded bytes not yet a whole page
    std::vector<std::byte> out(ZSTD_DStreamOutSize());
    std::size_t seen = 0;
    while (corpus.pages.size() < want) {
        const std::size_t got = std::fread(in.data(), 1, in.size(), file.get());
        if (got == 0) break;
        ZSTD_inBuffer input{in.data(), got, 0};
        while (input.pos < input.size && corpus.pages.size() < want) {
            ZSTD_outBuffer output{out.data(), out.size(), 0};
            const std::size_t rc = ZSTD_decompressStream(stream.get(), &output, &input);
            if (ZSTD_isError(rc)) {
                corpus.pages.clear();
                corpus.missing_reason = std::string("corpus is not a valid zstd stream: ") +
                                        ZSTD_getErrorName(rc);
                return corpus;
            }
            pending.insert(pending.end(), out.begin(), out.begin() + output.pos);
            std::size_t used = 0;
            while (pending.size() - used >= kPageSize && corpus.pages.size() < want) {
                if (seen++ % stride == 0) {
                    Page& page = corpus.pages.emplace_back();
                    std::memcpy(page.data(), pending.data() + used, kPageSize);
                }
                used += kPageSize;
            }
            pending.erase(pending.begin(), pending.begin() + used);
        }
    }
    if (corpus.pages.empty()) corpus.missing_reason = std::string("corpus ") + path + " is empty";
    return corpus;
}

} // namespace

const Corpus& test_corpus() {
    static const Corpus corpus = load_corpus(TRUENO_CORPUS_FILE, kCorpusTestPages, 1);
    return corpus;
}

const Corpus& spread_corpus() {
    static const Corpus corpus = load_corpus(TRUENO_CORPUS_FILE, SIZE_MAX, kSpreadStride);
    return corpus;
}

const Corpus& held_out_corpus() {
    static const Corpus corpus = load_corpus(TRUENO_HELD_OUT_CORPUS_FILE, SIZE_MAX, kSpreadStride);
    return corpus;
}

Page random_page(unsigned seed) {
    std::mt19937_64 rng(seed);
    Page page;
    for (std::size_t i = 0; i < kPageSize; i += 8) {
        const std::uint64_t v = rng();
        std::memcpy(page.data() + i, &v, 8);
    }
    return page;
}

std::vector<std::pair<std::string, Page>> edge_pages() {
    std::vector<std::pair<std::string, Page>> pages;
    Page zeros{};
    pages.emplace_back("zeros", zeros);
    for (std::size_t at : {std::size_t{0}, kPageSize / 2, kPageSize - 1}) {
        Page p{};
        p[at] = std::byte{0x5a};
        pages.emplace_back("one byte at " + std::to_string(at), p);
    }
    pages.emplace_back("random", random_page(42));
    for (std::size_t period : {3u, 7u, 8u, 64u, 1000u}) {
        Page p;
        for (std::size_t i = 0; i < kPageSize; ++i)
            p[i] = static_cast<std::byte>((i % period) * 37 + 1);
        pages.emplace_back("period " + std::to_string(period), p);
    }
    Page ascending;
    for (std::size_t i = 0; i < kPageSize; ++i) ascending[i] = static_cast<std::byte>(i);
    pages.emplace_back("ascending bytes", ascending);
    Page half = random_page(7);
    std::memset(half.data(), 0, kPageSize / 2);
    pages.emplace_back("half zero, half random", half);
    Page text;
    const char* words = "the quick brown fox jumps over the lazy dog; ";
    for (std::size_t i = 0; i < kPageSize; ++i)
        text[i] = static_cast<std::byte>(words[i % std::strlen(words)]);
    pages.emplace_back("text", text);
    return pages;
}

} // namespace trueno::test
