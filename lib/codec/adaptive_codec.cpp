// adaptive: picks per page, from a sample, between three ways of storing it, all at lz4 speed:
//   - will not fit: compress() returns 0 at once, without a full lz4 attempt (stored raw);
//   - byte planes: the page's 8-byte words split into byte planes (byte_planes.hpp), then lz4;
//   - plain lz4.
// Compressed layout: one tag byte (kPlainLz4 or kBytePlanesLz4), then an lz4 block. The tag,
// not the size, tells the decoder which way the page went.
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

// The trial: lz4 of this many bytes from the middle of the page must shrink them in the
// proportion dst has to the page, or the page is predicted not to fit. A slice compresses worse
// than its whole page (less history), so the prediction errs towards compressing: on the corpus
// with the store's limit, no page judged so would have fitted (RESULTS.md, "adaptive").
constexpr std::size_t kTrialBytes = 512;

class AdaptiveCodec final : public Codec {
public:
    explicit AdaptiveCodec(int acceleration)
        : acceleration_(acceleration), state_(std::make_unique<LZ4_stream_t>()) {}

    std::string_view name() const override { return "adaptive"; }
    int level() const override { return acceleration_; }

    std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        if (src.size() > INT_MAX || dst.size() < 2) return 0;
        std::span<const std::byte> input = src;
        AdaptiveTag tag = kPlainLz4;
        if (src.size() == kPageSize) {
            const WordPairSample sample = sample_word_pairs(src);
            if (may_be_incompressible(sample) && !slice_fits(src, dst.size() - 1)) return 0;
            if (favours_byte_planes(sample)) {
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

    // Whether lz4 brings a slice from the middle of the page down in the proportion
    // capacity / page size. With room for the page to expand it always says yes.
    bool slice_fits(std::span<const std::byte> page, std::size_t capacity) {
        const std::size_t limit = kTrialBytes * std::min(capacity, page.size()) / page.size();
        if (limit >= kTrialBytes) return true;
        const auto slice = page.subspan(page.size() / 2 - kTrialBytes / 2, kTrialBytes);
        return lz4(slice, std::span(planes_).first(limit)) > 0;
    }

    int acceleration_;
    std::unique_ptr<LZ4_stream_t> state_; // reused by every call: no allocation per page
    std::array<std::byte, kPageSize> planes_{}; // byte planes, or the trial's output
};

} // namespace

Result<std::unique_ptr<Codec>> make_adaptive_codec(int level) {
    return std::unique_ptr<Codec>(std::make_unique<AdaptiveCodec>(level));
}

} // namespace trueno::codec_detail
