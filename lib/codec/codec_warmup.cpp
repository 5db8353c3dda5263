// Codec::warm_decompression's default: a round trip, which makes compression's state as well.
#include "trueno/codec.hpp"
#include "trueno/page.hpp"

#include <array>
#include <cstring>

namespace trueno {

Status Codec::warm_decompression(std::span<const std::byte> page) {
    std::array<std::byte, kPageSize> frame{};
    std::array<std::byte, kPageSize> back{};
    if (page.size() > back.size())
        return make_error(EINVAL, "warming a codec: more than a page");
    const std::size_t size = compress(page, std::span(frame).first(page.size()));
    if (size == 0)
        return {}; // stored raw: the decompressor is never needed for it
    auto status = decompress(std::span<const std::byte>(frame).first(size),
                             std::span(back).first(page.size()));
    if (!status)
        return make_error(EIO, "warming a codec: " + status.error().message);
    if (std::memcmp(back.data(), page.data(), page.size()) != 0)
        return make_error(EIO, "warming a codec: the round trip differs");
    return {};
}

} // namespace trueno
