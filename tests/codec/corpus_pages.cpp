#include "corpus_pages.hpp"

#include <zstd.h>

#include <cstdio>
#include <memory>
#include <span>

#include "trueno/page.hpp"
#include "trueno/same_fill.hpp"

namespace trueno::test {
namespace {

struct FileClose {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
struct DStreamFree {
    void operator()(ZSTD_DStream* d) const noexcept { ZSTD_freeDStream(d); }
};

} // namespace

std::vector<std::byte> load_corpus_pages(const char* path, std::size_t& same_filled) {
    std::vector<std::byte> pages;
    std::unique_ptr<std::FILE, FileClose> file(std::fopen(path, "rb"));
    if (!file) {
        std::perror(path);
        return pages;
    }
    std::unique_ptr<ZSTD_DStream, DStreamFree> stream(ZSTD_createDStream());
    std::vector<std::byte> in(ZSTD_DStreamInSize()), out(ZSTD_DStreamOutSize()), all;
    while (const std::size_t got = std::fread(in.data(), 1, in.size(), file.get())) {
        ZSTD_inBuffer input{in.data(), got, 0};
        while (input.pos < input.size) {
            ZSTD_outBuffer output{out.data(), out.size(), 0};
            const std::size_t rc = ZSTD_decompressStream(stream.get(), &output, &input);
            if (ZSTD_isError(rc)) {
                std::fprintf(stderr, "%s: %s\n", path, ZSTD_getErrorName(rc));
                return {};
            }
            all.insert(all.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(output.pos));
        }
    }
    same_filled = 0;
    for (std::size_t at = 0; at + kPageSize <= all.size(); at += kPageSize) {
        if (same_fill_value(std::span<const std::byte, kPageSize>(all.data() + at, kPageSize))) {
            ++same_filled;
            continue;
        }
        pages.insert(pages.end(), all.begin() + static_cast<std::ptrdiff_t>(at),
                     all.begin() + static_cast<std::ptrdiff_t>(at + kPageSize));
    }
    return pages;
}

} // namespace trueno::test
