// zstd: one CCtx/DCtx per stream, default level 3 as in the kernel, optional shared dictionary.
//
// Our compressed pages never leave the process, so every byte of frame overhead that only
// matters for interchange is dropped: no magic number (magicless format), no content size (the
// caller knows it is one page), no checksum (the store checks sizes), no dictionary ID.
#define ZSTD_STATIC_LINKING_ONLY // for ZSTD_c_format / ZSTD_d_format (plain setParameter values)
#include <zstd.h>

#include <cstring>
#include <memory>
#include <tuple>
#include <vector>

#include "codec_factories.hpp"
#include "shared_dictionary.hpp"

namespace trueno::codec_detail {
namespace {

struct CCtxFree {
    void operator()(ZSTD_CCtx* c) const noexcept { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
    void operator()(ZSTD_DCtx* d) const noexcept { ZSTD_freeDCtx(d); }
};
struct CDictFree {
    void operator()(const ZSTD_CDict* c) const noexcept { ZSTD_freeCDict(const_cast<ZSTD_CDict*>(c)); }
};
struct DDictFree {
    void operator()(const ZSTD_DDict* d) const noexcept { ZSTD_freeDDict(const_cast<ZSTD_DDict*>(d)); }
};

Status check(std::size_t code, std::string_view what) {
    if (ZSTD_isError(code))
        return make_error(EINVAL,
                          "zstd: cannot " + std::string(what) + ": " + ZSTD_getErrorName(code));
    return {};
}

// The parameters every frame of ours is made with (see the top of the file).
Status set_frame_parameters(ZSTD_CCtx* cctx, int level) {
    for (auto [param, value, what] : {
             std::tuple{ZSTD_c_compressionLevel, level, "set the level"},
             std::tuple{ZSTD_c_contentSizeFlag, 0, "drop the content size"},
             std::tuple{ZSTD_c_checksumFlag, 0, "drop the checksum"},
             std::tuple{ZSTD_c_dictIDFlag, 0, "drop the dictionary id"},
             std::tuple{ZSTD_c_format, static_cast<int>(ZSTD_f_zstd1_magicless),
                        "drop the magic number"},
         }) {
        if (auto s = check(ZSTD_CCtx_setParameter(cctx, param, value), what); !s)
            return s.error();
    }
    return {};
}

// The dictionary digested for compression at this level, built once per dictionary and level
// and shared by every stream using them.
std::shared_ptr<const ZSTD_CDict>
compression_digest(int level, const std::shared_ptr<const std::vector<std::byte>>& dictionary) {
    auto digests = dictionary_digests(dictionary);
    std::lock_guard lock(digests->mutex);
    auto& cdict = digests->compress_by_level[level];
    if (!cdict) {
        // ZSTD_createCDict copies the bytes and accepts both raw content and trained dictionaries.
        cdict.reset(ZSTD_createCDict(dictionary->data(), dictionary->size(), level), CDictFree{});
        if (!cdict)
            digests->compress_by_level.erase(level);
    }
    return cdict;
}

// The dictionary digested for decompression, built once per dictionary.
std::shared_ptr<const ZSTD_DDict>
decompression_digest(const std::shared_ptr<const std::vector<std::byte>>& dictionary) {
    auto digests = dictionary_digests(dictionary);
    std::lock_guard lock(digests->mutex);
    if (!digests->decompress)
        digests->decompress.reset(ZSTD_createDDict(dictionary->data(), dictionary->size()),
                                  DDictFree{});
    return digests->decompress;
}

class ZstdCodec final : public Codec {
public:
    ZstdCodec(int level, std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx,
              std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx,
              std::shared_ptr<const std::vector<std::byte>> dictionary,
              std::shared_ptr<const ZSTD_DDict> ddict)
        : level_(level), cctx_(std::move(cctx)), dctx_(std::move(dctx)),
          dictionary_(std::move(dictionary)), ddict_(std::move(ddict)) {}

    std::string_view name() const override { return "zstd"; }
    int level() const override { return level_; }

    std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        // compression_on_demand: the dictionary's compression digest is made now, not with the
        // stream, so a stream that only decompresses (a recompression generation in a store
        // taken over) never pays for it. Without memory for it, the page is not compressed.
        if (!prepare_compression())
            return 0;
        // ZSTD_compress2 resets the session and keeps the sticky parameters and dictionary.
        const std::size_t out =
            ZSTD_compress2(cctx_.get(), dst.data(), dst.size(), src.data(), src.size());
        if (ZSTD_isError(out)) {
            // dstSize_tooSmall is the normal "store it raw" case; anything else leaves the
            // context in an unknown state, so start clean for the next page.
            ZSTD_CCtx_reset(cctx_.get(), ZSTD_reset_session_only);
            return 0;
        }
        return out;
    }

    Status decompress(std::span<const std::byte> src, std::span<std::byte> dst) override {
        const std::size_t out =
            ZSTD_decompressDCtx(dctx_.get(), dst.data(), dst.size(), src.data(), src.size());
        if (ZSTD_isError(out)) {
            ZSTD_DCtx_reset(dctx_.get(), ZSTD_reset_session_only);
            return corrupt_input_error(name(), ZSTD_getErrorName(out));
        }
        if (out != dst.size())
            return corrupt_input_error(name(), "decompressed to " + std::to_string(out) +
                                                   " bytes, expected " +
                                                   std::to_string(dst.size()));
        return {};
    }

    // The decompression context touched without touching this stream's compression state: a
    // frame made by a context that lives only for this call, without the dictionary, decoded
    // with ZSTD_decompress_usingDict(nothing), which leaves the referenced dictionary in place.
    Status warm_decompression(std::span<const std::byte> page) override {
        std::unique_ptr<ZSTD_CCtx, CCtxFree> once(ZSTD_createCCtx());
        if (!once)
            return make_error(ENOMEM, "zstd: cannot allocate a compression context");
        if (auto s = set_frame_parameters(once.get(), 1); !s)
            return s.error();
        std::vector<std::byte> frame(ZSTD_compressBound(page.size()));
        const std::size_t size =
            ZSTD_compress2(once.get(), frame.data(), frame.size(), page.data(), page.size());
        if (auto s = check(size, "compress a page to warm up with"); !s)
            return s.error();
        once.reset();
        std::vector<std::byte> back(page.size());
        const std::size_t out = ZSTD_decompress_usingDict(dctx_.get(), back.data(), back.size(),
                                                          frame.data(), size, nullptr, 0);
        if (ZSTD_isError(out) || out != page.size() ||
            std::memcmp(back.data(), page.data(), page.size()) != 0)
            return make_error(EIO, "zstd: a warm-up page did not decompress to itself");
        return {};
    }

    Status prepare_compression() override {
        if (dictionary_ && !cdict_ && !use_compression_digest())
            return make_error(ENOMEM, "zstd: no memory to digest the dictionary for compression");
        return {};
    }

    // References the dictionary's compression digest, made if no stream made it yet.
    bool use_compression_digest() {
        auto cdict = compression_digest(level_, dictionary_);
        if (!cdict || ZSTD_isError(ZSTD_CCtx_refCDict(cctx_.get(), cdict.get())))
            return false;
        cdict_ = std::move(cdict);
        return true;
    }

private:
    int level_;
    std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx_;
    std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx_;
    std::shared_ptr<const std::vector<std::byte>> dictionary_; // null: none
    // Kept alive here: the contexts only reference them. cdict_ is made with the stream, or
    // with compression_on_demand by the first compress.
    std::shared_ptr<const ZSTD_CDict> cdict_;
    std::shared_ptr<const ZSTD_DDict> ddict_;
};

} // namespace

Result<std::unique_ptr<Codec>> make_zstd_codec(int level, const CodecParams& params) {
    std::unique_ptr<ZSTD_CCtx, CCtxFree> cctx(ZSTD_createCCtx());
    std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx(ZSTD_createDCtx());
    if (!cctx || !dctx) return make_error(ENOMEM, "zstd: cannot allocate a compression context");
    if (auto s = set_frame_parameters(cctx.get(), level); !s)
        return s.error();
    if (auto s = check(ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_format,
                                              static_cast<int>(ZSTD_f_zstd1_magicless)),
                       "set the decoder format");
        !s)
        return s.error();

    std::shared_ptr<const std::vector<std::byte>> dictionary;
    std::shared_ptr<const ZSTD_DDict> ddict;
    if (params.dictionary && !params.dictionary->empty()) {
        dictionary = params.dictionary;
        ddict = decompression_digest(dictionary);
        if (!ddict)
            return make_error(EINVAL, "zstd: the dictionary could not be loaded for decompression");
        if (auto s = check(ZSTD_DCtx_refDDict(dctx.get(), ddict.get()), "use the dictionary"); !s)
            return s.error();
    }
    auto codec = std::make_unique<ZstdCodec>(level, std::move(cctx), std::move(dctx), dictionary,
                                             std::move(ddict));
    if (dictionary && !params.compression_on_demand && !codec->use_compression_digest())
        return make_error(EINVAL, "zstd: the dictionary could not be loaded for compression");
    return std::unique_ptr<Codec>(std::move(codec));
}

} // namespace trueno::codec_detail
