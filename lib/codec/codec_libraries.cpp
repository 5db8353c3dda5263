#include "trueno/codec.hpp"

#include <lz4.h>
#include <lz4hc.h>
#include <xxhash.h>
#include <zstd.h>

#ifdef TRUENO_HAVE_LZO
#include <lzo/lzo1x.h>
#endif
#ifdef TRUENO_HAVE_ZLIB
#include <zlib.h>
#endif

namespace trueno {

std::vector<const void*> codec_library_code() {
    // One function of each library: the caller finds the library's mapping from it.
    std::vector<const void*> code = {
        reinterpret_cast<const void*>(&LZ4_decompress_safe),
        reinterpret_cast<const void*>(&LZ4_compress_HC),
        reinterpret_cast<const void*>(&ZSTD_decompressDCtx),
        reinterpret_cast<const void*>(&XXH3_64bits),
    };
#ifdef TRUENO_HAVE_LZO
    code.push_back(reinterpret_cast<const void*>(&lzo1x_decompress_safe));
#endif
#ifdef TRUENO_HAVE_ZLIB
    code.push_back(reinterpret_cast<const void*>(&inflate));
#endif
    return code;
}

} // namespace trueno
