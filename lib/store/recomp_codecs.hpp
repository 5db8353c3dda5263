// The secondary (recompression) codecs of a store. Each recomp_algorithm setting or trained
// dictionary is a new generation with its own id (1..kMaxIds) that slots record, so pages
// compressed by an older generation still decode. Ids are never reused while the store lives:
// readers look an id up without a lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "stream_pool.hpp"
#include "trueno/codec.hpp"
#include "trueno/page_store.hpp"

namespace trueno::store {

class RecompCodecs {
public:
    static constexpr unsigned kMaxIds = 63; // the slot's 6-bit codec field, 0 = primary

    struct Generation {
        unsigned priority;
        std::string algorithm;
        CodecParams params;
        std::unique_ptr<StreamPool> streams;
    };

    explicit RecompCodecs(unsigned streams_per_codec) : streams_per_codec_(streams_per_codec) {}

    // Adds a generation for priority and makes it the current one. ENOSPC when every id is used.
    Result<unsigned> add(unsigned priority, const std::string& algorithm, const CodecParams& params);

    // The current generation's id for priority, 0 when none is set.
    unsigned current(unsigned priority) const;
    // A generation by id (1..count); valid for the store's lifetime.
    const Generation& at(unsigned id) const { return *generations_[id - 1]; }
    bool valid(unsigned id) const { return id >= 1 && id <= count_.load(std::memory_order_acquire); }

private:
    unsigned streams_per_codec_;
    std::mutex add_mutex_; // serialises add(); readers never take it
    std::array<std::unique_ptr<Generation>, kMaxIds> generations_{};
    std::atomic<unsigned> count_{0};
    std::array<std::atomic<unsigned>, kMaxRecompPriority + 1> current_{};
};

} // namespace trueno::store
