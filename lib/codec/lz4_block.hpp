// Internal: one lz4 block in, one out, for the codecs that store plain lz4 blocks (lz4, lz4hc,
// adaptive): the int-sized calls into liblz4 and the one decoder they all share.
#pragma once

#include <lz4.h>

#include <cstddef>
#include <span>
#include <string_view>

#include "trueno/codec.hpp"

namespace trueno::codec_detail {

// lz4 fast mode of src into dst with a state kept by the caller: the block's size, or 0 when it
// does not fit in dst (or src is too large for lz4).
std::size_t compress_lz4_block(LZ4_stream_t& state, int acceleration,
                               std::span<const std::byte> src, std::span<std::byte> dst);

// Decodes one lz4 block that must fill dst exactly; errors are reported as codec's.
Status decompress_lz4_block(std::string_view codec, std::span<const std::byte> src,
                            std::span<std::byte> dst);

} // namespace trueno::codec_detail
