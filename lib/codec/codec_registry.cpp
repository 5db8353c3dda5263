// The codec table (kernel 6.12's order and names, then ours) and make_codec's validation.
#include <zstd.h>

#include <array>
#include <string>

#include "codec_factories.hpp"

namespace trueno {
namespace {

// zstd's fastest negative level (ZSTD_minCLevel(), checked in the tests).
constexpr int kZstdMinLevel = -(1 << 17);

constexpr std::array kCodecs = {
#ifdef TRUENO_HAVE_LZO
    CodecInfo{"lzo", false, 0, 0, 0, false},
    CodecInfo{"lzo-rle", false, 0, 0, 0, false},
#endif
    CodecInfo{"lz4", true, 1, 65537, 1, false},     // acceleration; LZ4_ACCELERATION_MAX
    CodecInfo{"lz4hc", true, 3, 12, 9, false},      // LZ4HC_CLEVEL_MIN..MAX, kernel default 9
    CodecInfo{"zstd", true, kZstdMinLevel, 22, 3, true},
#ifdef TRUENO_HAVE_ZLIB
    CodecInfo{"deflate", true, 1, 9, 6, false},     // Z_DEFAULT_COMPRESSION is level 6
#endif
    // Not a kernel algorithm: listed after the kernel's names. Level = lz4 acceleration.
    CodecInfo{"adaptive", true, 1, 65537, 1, false},
};

} // namespace

namespace codec_detail {
Error corrupt_input_error(std::string_view codec, std::string_view detail) {
    return make_error(EIO, std::string(codec) + ": corrupted compressed page (" +
                               std::string(detail) + ")");
}
} // namespace codec_detail

std::span<const CodecInfo> available_codecs() { return kCodecs; }

std::string available_codec_names() {
    std::string names;
    for (const auto& info : kCodecs) {
        if (!names.empty()) names += ' ';
        names += info.name;
    }
    return names;
}

const CodecInfo* find_codec(std::string_view name) {
    for (const auto& info : kCodecs)
        if (info.name == name) return &info;
    return nullptr;
}

Result<std::unique_ptr<Codec>> make_codec(std::string_view name, const CodecParams& params) {
    const CodecInfo* info = find_codec(name);
    if (!info)
        return make_error(EINVAL, "unknown compression algorithm '" + std::string(name) +
                                      "'; available: " + available_codec_names());
    const std::string n(name);
    if (params.level && !info->has_level)
        return make_error(EINVAL, n + " has no compression level");
    const int level = params.level.value_or(info->default_level);
    if (info->has_level && (level < info->min_level || level > info->max_level))
        return make_error(EINVAL, "level " + std::to_string(level) + " is out of range for " + n +
                                      " (" + std::to_string(info->min_level) + ".." +
                                      std::to_string(info->max_level) + ")");
    const bool wants_dictionary = params.dictionary || !params.dict_path.empty();
    if (wants_dictionary && !info->has_dictionary)
        return make_error(EINVAL, n + " does not use a dictionary (only zstd does)");
    if (!params.dict_path.empty() && (!params.dictionary || params.dictionary->empty()))
        return make_error(EINVAL, "dictionary '" + params.dict_path + "' was not loaded");

    if (name == "lz4") return codec_detail::make_lz4_codec(level);
    if (name == "lz4hc") return codec_detail::make_lz4hc_codec(level);
    if (name == "zstd") return codec_detail::make_zstd_codec(level, params);
    if (name == "adaptive") return codec_detail::make_adaptive_codec(level);
#ifdef TRUENO_HAVE_LZO
    if (name == "lzo") return codec_detail::make_lzo_codec();
    if (name == "lzo-rle") return codec_detail::make_lzo_rle_codec();
#endif
#ifdef TRUENO_HAVE_ZLIB
    if (name == "deflate") return codec_detail::make_deflate_codec(level);
#endif
    return make_error(EINVAL, "compression algorithm '" + n + "' is listed but not built");
}

} // namespace trueno
