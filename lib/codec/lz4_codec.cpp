// lz4: LZ4 fast mode with a per-stream state; the level is LZ4's acceleration, as in the kernel.
#include <lz4.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "codec_factories.hpp"

namespace trueno::codec_detail {
namespace {

class Lz4Codec final : public Codec {
public:
    explicit Lz4Codec(int acceleration)
        : acceleration_(acceleration), state_(std::make_unique<LZ4_stream_t>()) {}

    std::string_view name() const override { return "lz4"; }
    int level() const override { return acceleration_; }

    std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        if (src.size() > INT_MAX || dst.empty()) return 0;
        const int out = LZ4_compress_fast_extState(
            state_.get(), reinterpret_cast<const char*>(src.data()),
            reinterpret_cast<char*>(dst.data()), static_cast<int>(src.size()),
            static_cast<int>(std::min<std::size_t>(dst.size(), INT_MAX)), acceleration_);
        return out > 0 ? static_cast<std::size_t>(out) : 0;
    }

    Status decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        if (src.empty() || src.size() > INT_MAX || dst.size() > INT_MAX)
            return corrupt_input_error(name(), "empty or oversized input");
        const int out = LZ4_decompress_safe(reinterpret_cast<const char*>(src.data()),
                                            reinterpret_cast<char*>(dst.data()),
                                            static_cast<int>(src.size()),
                                            static_cast<int>(dst.size()));
        if (out < 0) return corrupt_input_error(name(), "malformed lz4 block");
        if (static_cast<std::size_t>(out) != dst.size())
            return corrupt_input_error(name(), "decompressed to " + std::to_string(out) +
                                                   " bytes, expected " +
                                                   std::to_string(dst.size()));
        return {};
    }

private:
    int acceleration_;
    std::unique_ptr<LZ4_stream_t> state_; // reused by every call: no allocation per page
};

} // namespace

Result<std::unique_ptr<Codec>> make_lz4_codec(int level) {
    return std::unique_ptr<Codec>(std::make_unique<Lz4Codec>(level));
}

} // namespace trueno::codec_detail
