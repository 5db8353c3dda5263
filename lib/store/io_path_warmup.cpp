#include "io_path_warmup.hpp"

#include <array>
#include <vector>

namespace trueno::store {

Status warm_streams(StreamPool& pool) {
    // A page that compresses but not to nothing, so the codec walks its whole path.
    std::array<std::byte, kPageSize> page{};
    for (std::size_t i = 0; i < page.size(); ++i)
        page[i] = static_cast<std::byte>((i * 2654435761u >> 13) % 17);
    std::array<std::byte, kPageSize> back{};
    // Holding every lease at once makes each acquire() return a different stream.
    std::vector<StreamPool::Lease> leases;
    leases.reserve(pool.size());
    for (unsigned i = 0; i < pool.size(); ++i) leases.push_back(pool.acquire());
    for (auto& lease : leases) {
        const std::size_t size = lease.codec().compress(page, lease.buffer());
        if (size == 0) continue; // stored raw: the decompressor is never needed for it
        auto status = lease.codec().decompress(std::span<const std::byte>(lease.buffer()).first(size), back);
        if (!status) return make_error(EIO, "warming a compression stream: " + status.error().message);
        if (back != page) return make_error(EIO, "warming a compression stream: round trip differs");
    }
    return {};
}

} // namespace trueno::store
