// lz4: LZ4 fast mode with a per-stream state; the level is LZ4's acceleration, as in the kernel.
#include <memory>

#include "codec_factories.hpp"
#include "lz4_block.hpp"

namespace trueno::codec_detail {
namespace {

class Lz4Codec final : public Codec {
public:
    explicit Lz4Codec(int acceleration)
        : acceleration_(acceleration), state_(std::make_unique<LZ4_stream_t>()) {}

    std::string_view name() const override { return "lz4"; }
    int level() const override { return acceleration_; }

    std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        return compress_lz4_block(*state_, acceleration_, src, dst);
    }

    Status decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        return decompress_lz4_block(name(), src, dst);
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
