// Fuzz target: every codec's decompress on hostile input, as the store's read path calls it
// (lib/store: one page from an object of at most a page, or a multi-page group of up to 32
// pages from its payload), with a zstd dictionary as recompression generations use. The
// contract (lib/include/trueno/codec.hpp): a decoded page or EIO, never a read or write out
// of bounds (AddressSanitizer checks), and the stream still works afterwards: a real page
// compressed and decompressed after the hostile input must come back intact.
//
// Input: byte 0 picks the codec by its index in available_codecs() (and, for zstd, bit 7 a
// dictionary), byte 1 the output size (even: one page; odd: 2 + (byte / 2) % 31 pages), the
// rest is the compressed data. make_codec_seeds.cpp writes valid inputs of each kind.
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <vector>

#include "codec_samples.hpp"
#include "fuzz_check.hpp"
#include "trueno/codec.hpp"
#include "trueno/page.hpp"

using trueno::fuzz::check;

namespace {

// One stream per codec (and dictionary), kept across inputs as the store keeps its streams.
trueno::Codec& codec(std::size_t index, bool with_dictionary) {
    static std::map<std::pair<std::size_t, bool>, std::unique_ptr<trueno::Codec>> streams;
    auto& stream = streams[{index, with_dictionary}];
    if (!stream) {
        trueno::CodecParams params;
        if (with_dictionary)
            params.dictionary = trueno::fuzz::sample_dictionary();
        auto made = trueno::make_codec(trueno::available_codecs()[index].name, params);
        check(made.ok(), "every listed codec can be made");
        stream = std::move(*made);
    }
    return *stream;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2)
        return 0;
    const auto codecs = trueno::available_codecs();
    const std::size_t index = (data[0] & 0x7f) % codecs.size();
    const bool with_dictionary = (data[0] & 0x80) && codecs[index].has_dictionary;
    const std::size_t pages =
        data[1] % 2 == 0 ? 1 : 2 + (data[1] / 2) % (trueno::fuzz::kMaxGroupPages - 1);
    trueno::Codec& stream = codec(index, with_dictionary);

    // Exactly the input's bytes and exactly the output's size, so that ASan sees any overrun.
    const std::vector<std::byte> input(reinterpret_cast<const std::byte*>(data + 2),
                                       reinterpret_cast<const std::byte*>(data + size));
    std::vector<std::byte> output(pages * trueno::kPageSize);
    const auto status = stream.decompress(input, output);
    check(status.ok() || status.error().code == EIO, "hostile input decodes or fails with EIO");

    static const std::vector<std::byte> page = trueno::fuzz::sample_page();
    std::vector<std::byte> compressed(trueno::kPageSize);
    const std::size_t n = stream.compress(page, compressed);
    check(n > 0 && n <= compressed.size(), "the sample page compresses after hostile input");
    std::vector<std::byte> back(trueno::kPageSize);
    check(stream.decompress(std::span(compressed).first(n), back).ok() && back == page,
          "the stream still round-trips a page after hostile input");
    return 0;
}
