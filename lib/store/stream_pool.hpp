// Compression streams shared by all callers, like kernel zram's per-CPU streams: each is a
// codec plus a scratch buffer. Taking one is a try-lock walk starting at a per-thread place,
// so threads spread over the streams without a shared lock.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "trueno/codec.hpp"
#include "trueno/page.hpp"
#include "trueno/result.hpp"

namespace trueno::store {

class StreamPool {
    struct alignas(64) Stream {
        std::unique_ptr<Codec> codec;
        std::array<std::byte, kPageSize> buffer{};
        std::atomic<bool> busy{false};
    };

public:
    // A stream held by one caller; gives it back when destroyed.
    class Lease {
    public:
        explicit Lease(Stream& stream) : stream_(&stream) {}
        Lease(Lease&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        Lease& operator=(Lease&&) = delete;
        ~Lease() {
            if (stream_ != nullptr) stream_->busy.store(false, std::memory_order_release);
        }
        Codec& codec() { return *stream_->codec; }
        std::span<std::byte, kPageSize> buffer() { return stream_->buffer; }

    private:
        Stream* stream_;
    };

    static Result<std::unique_ptr<StreamPool>> create(std::string_view algorithm,
                                                      const CodecParams& params, unsigned count);
    unsigned size() const { return static_cast<unsigned>(streams_.size()); }
    Lease acquire();

private:
    StreamPool() = default;
    std::vector<std::unique_ptr<Stream>> streams_;
};

} // namespace trueno::store
