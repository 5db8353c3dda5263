// Internal: an LZO1X-1 stream (liblzo2), shared by the lzo and lzo-rle codecs.
#pragma once

#include <string_view>
#include <vector>

#include "trueno/codec.hpp"

namespace trueno::codec_detail {

class Lzo1xStream final : public Codec {
public:
    explicit Lzo1xStream(std::string_view name);

    std::string_view name() const override { return name_; }
    int level() const override { return 0; }
    std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) override;
    Status decompress(std::span<const std::byte> src, std::span<std::byte> dst) override;

private:
    std::string_view name_;
    std::vector<std::byte> work_;    // LZO1X_1_MEM_COMPRESS of hash table
    std::vector<std::byte> scratch_; // worst-case output: liblzo2 cannot stop at dst's end
};

} // namespace trueno::codec_detail
