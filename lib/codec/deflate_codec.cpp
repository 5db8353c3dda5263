// deflate: zlib raw deflate, default level 6 as in the kernel.
//
// The kernel uses an 11-bit window (2 KiB); we use 12 bits so a match can reach back across the
// whole 4 KiB page. Our streams are internal, so only the name and behaviour must match.
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <memory>

#include "codec_factories.hpp"

namespace trueno::codec_detail {
namespace {

constexpr int kWindowBits = -12; // negative: raw deflate, no zlib header or adler32
constexpr int kMemLevel = 9;     // MAX_MEM_LEVEL, as the kernel

class DeflateCodec final : public Codec {
public:
    explicit DeflateCodec(int level) : level_(level) {}
    DeflateCodec(const DeflateCodec&) = delete;
    DeflateCodec& operator=(const DeflateCodec&) = delete;
    ~DeflateCodec() override {
        if (deflate_ready_) deflateEnd(&deflate_);
        if (inflate_ready_) inflateEnd(&inflate_);
    }

    Status init() {
        if (deflateInit2(&deflate_, level_, Z_DEFLATED, kWindowBits, kMemLevel,
                         Z_DEFAULT_STRATEGY) != Z_OK)
            return make_error(ENOMEM, "deflate: cannot initialise the compressor");
        deflate_ready_ = true;
        if (inflateInit2(&inflate_, kWindowBits) != Z_OK)
            return make_error(ENOMEM, "deflate: cannot initialise the decompressor");
        inflate_ready_ = true;
        return {};
    }

    std::string_view name() const override { return "deflate"; }
    int level() const override { return level_; }

    std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        if (src.size() > UINT_MAX || dst.empty()) return 0;
        deflateReset(&deflate_); // keeps the allocated window and tables
        deflate_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(src.data()));
        deflate_.avail_in = static_cast<uInt>(src.size());
        deflate_.next_out = reinterpret_cast<Bytef*>(dst.data());
        deflate_.avail_out = static_cast<uInt>(std::min<std::size_t>(dst.size(), UINT_MAX));
        // Anything but Z_STREAM_END means dst was too small for the whole stream.
        if (deflate(&deflate_, Z_FINISH) != Z_STREAM_END) return 0;
        return deflate_.total_out;
    }

    Status decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        if (src.empty() || src.size() > UINT_MAX || dst.size() > UINT_MAX)
            return corrupt_input_error(name(), "empty or oversized input");
        inflateReset(&inflate_);
        inflate_.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(src.data()));
        inflate_.avail_in = static_cast<uInt>(src.size());
        inflate_.next_out = reinterpret_cast<Bytef*>(dst.data());
        inflate_.avail_out = static_cast<uInt>(dst.size());
        const int rc = inflate(&inflate_, Z_FINISH);
        if (rc != Z_STREAM_END)
            return corrupt_input_error(name(), inflate_.msg ? inflate_.msg
                                                             : "stream ended early or overflowed");
        if (inflate_.total_out != dst.size())
            return corrupt_input_error(name(), "decompressed to " +
                                                   std::to_string(inflate_.total_out) +
                                                   " bytes, expected " +
                                                   std::to_string(dst.size()));
        if (inflate_.avail_in != 0) return corrupt_input_error(name(), "trailing bytes");
        return {};
    }

private:
    int level_;
    z_stream deflate_{};
    z_stream inflate_{};
    bool deflate_ready_ = false;
    bool inflate_ready_ = false;
};

} // namespace

Result<std::unique_ptr<Codec>> make_deflate_codec(int level) {
    auto codec = std::make_unique<DeflateCodec>(level);
    if (auto s = codec->init(); !s) return s.error();
    return std::unique_ptr<Codec>(std::move(codec));
}

} // namespace trueno::codec_detail
