#include "io_path_warmup.hpp"

#include <array>
#include <vector>

namespace trueno::store {

Status warm_streams(StreamPool& pool, StreamUse use) {
    // A page that compresses but not to nothing, so the codec walks its whole path.
    std::array<std::byte, kPageSize> page{};
    for (std::size_t i = 0; i < page.size(); ++i)
        page[i] = static_cast<std::byte>((i * 2654435761u >> 13) % 17);
    // Holding every lease at once makes each acquire() return a different stream.
    std::vector<StreamPool::Lease> leases;
    leases.reserve(pool.size());
    for (unsigned i = 0; i < pool.size(); ++i) leases.push_back(pool.acquire());
    for (auto& lease : leases) {
        Codec& codec = lease.codec();
        // The base class's warm_decompression is a round trip through compress(): both made.
        auto status = use == StreamUse::read ? codec.warm_decompression(page)
                                             : codec.Codec::warm_decompression(page);
        if (!status)
            return make_error(EIO, "warming a codec stream: " + status.error().message);
    }
    return {};
}

} // namespace trueno::store
