#include "lz4_block.hpp"

#include <algorithm>
#include <climits>
#include <string>

#include "codec_factories.hpp"

namespace trueno::codec_detail {

std::size_t compress_lz4_block(LZ4_stream_t& state, int acceleration,
                               std::span<const std::byte> src, std::span<std::byte> dst) {
    if (src.size() > INT_MAX || dst.empty()) return 0;
    const int out = LZ4_compress_fast_extState(
        &state, reinterpret_cast<const char*>(src.data()), reinterpret_cast<char*>(dst.data()),
        static_cast<int>(src.size()), static_cast<int>(std::min<std::size_t>(dst.size(), INT_MAX)),
        acceleration);
    return out > 0 ? static_cast<std::size_t>(out) : 0;
}

Status decompress_lz4_block(std::string_view codec, std::span<const std::byte> src,
                            std::span<std::byte> dst) {
    if (src.empty() || src.size() > INT_MAX || dst.size() > INT_MAX)
        return corrupt_input_error(codec, "empty or oversized input");
    const int out = LZ4_decompress_safe(reinterpret_cast<const char*>(src.data()),
                                        reinterpret_cast<char*>(dst.data()),
                                        static_cast<int>(src.size()), static_cast<int>(dst.size()));
    if (out < 0) return corrupt_input_error(codec, "malformed lz4 block");
    if (static_cast<std::size_t>(out) != dst.size())
        return corrupt_input_error(codec, "decompressed to " + std::to_string(out) +
                                              " bytes, expected " + std::to_string(dst.size()));
    return {};
}

} // namespace trueno::codec_detail
