// adaptive: picks per page between two ways of storing it, both at close to lz4's speed:
//   - byte planes: the page's 8-byte words split into byte planes (byte_planes.hpp), then lz4;
//   - plain lz4.
// Compressed layout: one tag byte (kPlainLz4 or kBytePlanesLz4), then an lz4 block. The tag,
// not the size, tells the decoder which way the page went. The layout is unchanged since the
// first version; only how the encoder chooses has changed, so every stored page still decodes.
//
// The choice: a sample of word pairs (page_estimate.hpp) says whether byte planes may help. On
// memory other than the one the sample's threshold was tuned on it is often wrong (a compiler's
// pages: 91 % of the pages it picked compressed worse as planes), so a page it picks is then
// tried both ways on a slice from its middle, and goes to planes only if the slice is smaller
// as planes. A page lz4 cannot fit is stored raw only after a full lz4 attempt, never on a
// guess. tests/bench/RESULTS.md, "adaptive", has the measurements on seven kinds of memory.
//
// level: lz4's acceleration for every lz4 call (1..65537, default 1), as for lz4 itself.
// Pages other than kPageSize bytes skip the estimate and go plain.
#include <algorithm>
#include <array>
#include <climits>
#include <memory>

#include "byte_planes.hpp"
#include "codec_factories.hpp"
#include "lz4_block.hpp"
#include "page_estimate.hpp"
#include "trueno/page.hpp"

namespace trueno::codec_detail {
namespace {

enum AdaptiveTag : unsigned char { kPlainLz4 = 0, kBytePlanesLz4 = 1 };

// The trial slice: lz4 of these bytes from the middle of the page, as they are and as byte
// planes. 1 KiB came within 0.3 % of the better of the two whole-page sizes on all seven
// corpora (512 bytes lost a tenth of the gain on python-heap); a multiple of kBytePlaneBlock.
constexpr std::size_t kTrialBytes = 1024;
static_assert(kTrialBytes % kBytePlaneBlock == 0 && kTrialBytes <= kPageSize);

class AdaptiveCodec final : public Codec {
public:
    explicit AdaptiveCodec(int acceleration)
        : acceleration_(acceleration), state_(std::make_unique<LZ4_stream_t>()),
          trial_state_(std::make_unique<LZ4_stream_t>()) {
        LZ4_initStream(trial_state_.get(), sizeof(LZ4_stream_t));
    }

    std::string_view name() const override { return "adaptive"; }
    int level() const override { return acceleration_; }

    std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        if (src.size() > INT_MAX || dst.size() < 2) return 0;
        std::span<const std::byte> input = src;
        AdaptiveTag tag = kPlainLz4;
        if (src.size() == kPageSize) {
            if (favours_byte_planes(sample_word_pairs(src)) && planes_win_on_slice(src)) {
                split_byte_planes(src, planes_);
                input = planes_;
                tag = kBytePlanesLz4;
            }
        }
        const std::size_t out = lz4(input, dst.subspan(1));
        if (out == 0) return 0;
        dst[0] = static_cast<std::byte>(tag);
        return out + 1;
    }

    Status decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        if (src.size() < 2 || src.size() > INT_MAX || dst.size() > INT_MAX)
            return corrupt_input_error(name(), "shorter than a tag and a block, or oversized");
        const auto tag = static_cast<unsigned char>(src[0]);
        const auto body = src.subspan(1);
        switch (tag) {
        case kPlainLz4:
            return decompress_lz4_block(name(), body, dst);
        case kBytePlanesLz4: {
            if (dst.size() != kPageSize)
                return corrupt_input_error(name(), "byte planes tag on a partial page");
            if (auto status = decompress_lz4_block(name(), body, planes_); !status)
                return status;
            join_byte_planes(planes_, dst);
            return {};
        }
        default:
            return corrupt_input_error(name(), "unknown tag " + std::to_string(tag));
        }
    }

private:
    std::size_t lz4(std::span<const std::byte> src, std::span<std::byte> dst) {
        return compress_lz4_block(*state_, acceleration_, src, dst);
    }

    // Whether the middle kTrialBytes of the page compress smaller as byte planes than as they
    // are. A slice that does not fit in its own size counts as its size plus one.
    bool planes_win_on_slice(std::span<const std::byte> page) {
        const auto slice = page.subspan(page.size() / 2 - kTrialBytes / 2, kTrialBytes);
        const auto slice_planes = std::span(planes_).first(kTrialBytes);
        split_byte_planes(slice, slice_planes);
        // A stream reset the fast way: LZ4_compress_fast_extState would clear its 16 KiB of
        // tables for each 1 KiB slice, which costs more than compressing the slice.
        const auto size_or_more = [&](std::span<const std::byte> input) {
            LZ4_resetStream_fast(trial_state_.get());
            const int n = LZ4_compress_fast_continue(
                trial_state_.get(), reinterpret_cast<const char*>(input.data()),
                reinterpret_cast<char*>(trial_out_.data()), static_cast<int>(input.size()),
                static_cast<int>(trial_out_.size()), acceleration_);
            return n <= 0 ? kTrialBytes + 1 : static_cast<std::size_t>(n);
        };
        return size_or_more(slice_planes) < size_or_more(slice);
    }

    int acceleration_;
    std::unique_ptr<LZ4_stream_t> state_; // reused by every call: no allocation per page
    std::unique_ptr<LZ4_stream_t> trial_state_;      // the slice trial's, reset the fast way
    std::array<std::byte, kPageSize> planes_{};      // byte planes (of the page, or the slice)
    std::array<std::byte, kTrialBytes> trial_out_{}; // the trial's lz4 output, discarded
};

} // namespace

Result<std::unique_ptr<Codec>> make_adaptive_codec(int level) {
    return std::unique_ptr<Codec>(std::make_unique<AdaptiveCodec>(level));
}

} // namespace trueno::codec_detail
