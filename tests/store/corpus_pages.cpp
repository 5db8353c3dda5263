#include "corpus_pages.hpp"

#include <zstd.h>

#include <fstream>
#include <memory>

#include "trueno/page.hpp"

namespace trueno::test {

Result<std::vector<std::byte>> read_corpus_pages(const std::string& path, std::size_t max_pages) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return make_error(ENOENT, "cannot open " + path);
    std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
    std::vector<char> input(ZSTD_DStreamInSize());
    std::vector<std::byte> pages(max_pages * kPageSize);
    std::size_t filled = 0;
    while (filled < pages.size() && file) {
        file.read(input.data(), static_cast<std::streamsize>(input.size()));
        ZSTD_inBuffer in{input.data(), static_cast<std::size_t>(file.gcount()), 0};
        while (in.pos < in.size && filled < pages.size()) {
            ZSTD_outBuffer out{pages.data() + filled, pages.size() - filled, 0};
            const std::size_t rc = ZSTD_decompressStream(context.get(), &out, &in);
            if (ZSTD_isError(rc))
                return make_error(EIO, path + ": " + ZSTD_getErrorName(rc));
            filled += out.pos;
        }
    }
    pages.resize(filled / kPageSize * kPageSize);
    return pages;
}

} // namespace trueno::test
