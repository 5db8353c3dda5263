// lzo: LZO1X-1 from liblzo2, the kernel's original zram default.
#include <lzo/lzo1x.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "codec_factories.hpp"
#include "lzo1x_stream.hpp"
#include "trueno/page.hpp"

namespace trueno::codec_detail {
namespace {

// LZO's documented worst case for incompressible input.
std::size_t lzo_worst_case(std::size_t n) { return n + n / 16 + 64 + 3; }

bool lzo_ready() {
    static const bool ok = lzo_init() == LZO_E_OK; // once per process, checks the ABI
    return ok;
}

} // namespace

Lzo1xStream::Lzo1xStream(std::string_view name)
    : name_(name), work_(LZO1X_1_MEM_COMPRESS), scratch_(lzo_worst_case(kPageSize)) {}

std::size_t Lzo1xStream::compress(std::span<const std::byte> src, std::span<std::byte> dst) {
    const std::size_t worst = lzo_worst_case(src.size());
    // Compress straight into dst when even the worst case fits, else via the scratch buffer.
    const bool direct = dst.size() >= worst;
    if (!direct && scratch_.size() < worst) scratch_.resize(worst); // only for inputs > a page
    auto* out = reinterpret_cast<unsigned char*>(direct ? dst.data() : scratch_.data());
    lzo_uint out_len = 0;
    const int rc = lzo1x_1_compress(reinterpret_cast<const unsigned char*>(src.data()), src.size(),
                                    out, &out_len, work_.data());
    if (rc != LZO_E_OK || out_len == 0 || out_len > dst.size()) return 0;
    if (!direct) std::memcpy(dst.data(), scratch_.data(), out_len);
    return out_len;
}

Status Lzo1xStream::decompress(std::span<const std::byte> src, std::span<std::byte> dst) {
    if (src.empty()) return corrupt_input_error(name_, "empty input");
    lzo_uint out_len = dst.size();
    const int rc = lzo1x_decompress_safe(reinterpret_cast<const unsigned char*>(src.data()),
                                         src.size(), reinterpret_cast<unsigned char*>(dst.data()),
                                         &out_len, nullptr);
    if (rc != LZO_E_OK)
        return corrupt_input_error(name_, "lzo1x error " + std::to_string(rc));
    if (out_len != dst.size())
        return corrupt_input_error(name_, "decompressed to " + std::to_string(out_len) +
                                              " bytes, expected " + std::to_string(dst.size()));
    return {};
}

Result<std::unique_ptr<Codec>> make_lzo_codec() {
    if (!lzo_ready()) return make_error(EINVAL, "lzo: liblzo2 failed to initialise");
    return std::unique_ptr<Codec>(std::make_unique<Lzo1xStream>("lzo"));
}

} // namespace trueno::codec_detail
