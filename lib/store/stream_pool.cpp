#include "stream_pool.hpp"

#include <functional>
#include <thread>

namespace trueno::store {

Result<std::unique_ptr<StreamPool>> StreamPool::create(std::string_view algorithm,
                                                       const CodecParams& params, unsigned count) {
    if (count == 0) return make_error(EINVAL, "a store needs at least one compression stream");
    std::unique_ptr<StreamPool> pool(new StreamPool());
    pool->streams_.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
        auto codec = make_codec(algorithm, params);
        if (!codec) return codec.error();
        auto stream = std::make_unique<Stream>();
        stream->codec = std::move(codec.value());
        pool->streams_.push_back(std::move(stream));
    }
    return pool;
}

StreamPool::Lease StreamPool::acquire() {
    // Each thread starts at its own place, so with as many streams as CPUs the first try
    // almost always succeeds.
    const std::size_t n = streams_.size();
    const std::size_t start = std::hash<std::thread::id>{}(std::this_thread::get_id()) % n;
    for (;;) {
        for (std::size_t i = 0; i < n; ++i) {
            Stream& stream = *streams_[(start + i) % n];
            if (!stream.busy.load(std::memory_order_relaxed) &&
                !stream.busy.exchange(true, std::memory_order_acquire))
                return Lease(stream);
        }
        std::this_thread::yield();
    }
}

} // namespace trueno::store
