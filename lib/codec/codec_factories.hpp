// Internal: one factory per codec, each defined in that codec's own file. make_codec() validates
// the name, level and dictionary before calling these, so they only build the stream.
#pragma once

#include <memory>

#include "trueno/codec.hpp"

namespace trueno::codec_detail {

Result<std::unique_ptr<Codec>> make_lz4_codec(int level);
Result<std::unique_ptr<Codec>> make_lz4hc_codec(int level);
Result<std::unique_ptr<Codec>> make_zstd_codec(int level, const CodecParams& params);
Result<std::unique_ptr<Codec>> make_adaptive_codec(int level);
#ifdef TRUENO_HAVE_LZO
Result<std::unique_ptr<Codec>> make_lzo_codec();
Result<std::unique_ptr<Codec>> make_lzo_rle_codec();
#endif
#ifdef TRUENO_HAVE_ZLIB
Result<std::unique_ptr<Codec>> make_deflate_codec(int level);
#endif

// The error every codec reports for input that does not decompress to exactly one page.
Error corrupt_input_error(std::string_view codec, std::string_view detail);

} // namespace trueno::codec_detail
