// lzo-rle: the kernel's default since 5.1.
//
// The kernel's lzo-rle is LZO1X with a run-length extension (a different bitstream, marked by a
// version byte) that liblzo2 cannot produce. Our compressed pages never leave the process, so
// only the codec's name and behaviour must match the kernel's, not its bitstream: lzo-rle here
// is LZO1X-1, exactly as lzo. Runs of equal bytes still compress well under LZO1X; whole-page
// runs never reach a codec because same-fill detection stores them first.
#include <lzo/lzo1x.h>

#include <memory>

#include "codec_factories.hpp"
#include "lzo1x_stream.hpp"

namespace trueno::codec_detail {

Result<std::unique_ptr<Codec>> make_lzo_rle_codec() {
    // make_lzo_codec initialises liblzo2; reuse it so that check lives in one place.
    auto lzo = make_lzo_codec();
    if (!lzo) return lzo.error();
    return std::unique_ptr<Codec>(std::make_unique<Lzo1xStream>("lzo-rle"));
}

} // namespace trueno::codec_detail
