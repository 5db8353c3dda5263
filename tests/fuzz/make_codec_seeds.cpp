// Not a fuzz target: writes the codec_decompress target's seed inputs into a folder. For each
// codec (by its index in available_codecs()) one page compressed, and a group of 4 pages as
// multi-page objects hold them; for zstd also a page with the sample dictionary. Run again
// when a codec's format changes:
//   ninja -C build-fuzz tests/fuzz/fuzz-make-codec-seeds
//   build-fuzz/tests/fuzz/fuzz-make-codec-seeds tests/fuzz/corpus/codec_decompress
#include <cstdio>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "codec_samples.hpp"
#include "trueno/codec.hpp"

namespace {

bool write_seed(const std::string& path, std::uint8_t codec_byte, std::uint8_t size_byte,
                std::span<const std::byte> compressed) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.put(static_cast<char>(codec_byte));
    out.put(static_cast<char>(size_byte));
    out.write(reinterpret_cast<const char*>(compressed.data()),
              static_cast<std::streamsize>(compressed.size()));
    return static_cast<bool>(out);
}

bool make(const std::string& dir, std::size_t index, bool with_dictionary, std::size_t pages) {
    const auto& info = trueno::available_codecs()[index];
    trueno::CodecParams params;
    if (with_dictionary)
        params.dictionary = trueno::fuzz::sample_dictionary();
    auto codec = trueno::make_codec(info.name, params);
    if (!codec) {
        std::fprintf(stderr, "%s: %s\n", std::string(info.name).c_str(),
                     codec.error().message.c_str());
        return false;
    }
    std::vector<std::byte> input;
    for (std::size_t p = 0; p < pages; ++p) {
        const auto page = trueno::fuzz::sample_page(static_cast<unsigned>(p * 7));
        input.insert(input.end(), page.begin(), page.end());
    }
    std::vector<std::byte> out(input.size() + trueno::kPageSize);
    const std::size_t n = (*codec)->compress(input, out);
    if (n == 0) {
        std::fprintf(stderr, "%s: does not compress the sample\n", std::string(info.name).c_str());
        return false;
    }
    // The target's encoding: bit 7 of byte 0 asks for the dictionary; an odd byte 1 means
    // 2 + byte / 2 pages, an even one a single page.
    const auto codec_byte = static_cast<std::uint8_t>(index | (with_dictionary ? 0x80 : 0));
    const auto size_byte = static_cast<std::uint8_t>(pages == 1 ? 0 : 2 * (pages - 2) + 1);
    const std::string name = dir + "/" + std::string(info.name) + (with_dictionary ? "-dict" : "") +
                             (pages == 1 ? "-page" : "-group" + std::to_string(pages));
    return write_seed(name, codec_byte, size_byte, std::span(out).first(n));
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    bool ok = true;
    const auto codecs = trueno::available_codecs();
    for (std::size_t i = 0; i < codecs.size(); ++i) {
        ok = make(argv[1], i, false, 1) && ok;
        ok = make(argv[1], i, false, 4) && ok;
        if (codecs[i].has_dictionary)
            ok = make(argv[1], i, true, 1) && ok;
    }
    return ok ? 0 : 1;
}
