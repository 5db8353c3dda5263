#include "recomp_codecs.hpp"

#include "io_path_warmup.hpp"

namespace trueno::store {

Result<unsigned> RecompCodecs::add(unsigned priority, const std::string& algorithm,
                                   const CodecParams& params) {
    if (priority < 1 || priority > kMaxRecompPriority)
        return make_error(EINVAL, "recompression priority " + std::to_string(priority) +
                                      " is not between 1 and " + std::to_string(kMaxRecompPriority));
    std::lock_guard lock(add_mutex_);
    const unsigned count = count_.load(std::memory_order_relaxed);
    if (count == kMaxIds)
        return make_error(ENOSPC, "all " + std::to_string(kMaxIds) +
                                      " recompression codec generations are used; reset the device");
    // Only recompression compresses with it, in the background: compression's state is made
    // when it does (a store taken over reads these generations long before, if ever, it
    // compresses with them).
    CodecParams on_demand = params;
    on_demand.compression_on_demand = true;
    auto streams = StreamPool::create(algorithm, on_demand, streams_per_codec_);
    if (!streams) return streams.error();
    // Queue threads decompress pages of this generation: its streams' decompression workspaces
    // are touched now, before any page uses it, not on a read under memory pressure.
    if (auto warm = warm_streams(**streams, StreamUse::read); !warm)
        return warm.error();
    generations_[count] = std::make_unique<Generation>(
        Generation{priority, algorithm, params, std::move(streams.value())});
    count_.store(count + 1, std::memory_order_release); // publishes the entry to readers
    current_[priority].store(count + 1, std::memory_order_release);
    return count + 1;
}

unsigned RecompCodecs::current(unsigned priority) const {
    if (priority < 1 || priority > kMaxRecompPriority) return 0;
    return current_[priority].load(std::memory_order_acquire);
}

} // namespace trueno::store
