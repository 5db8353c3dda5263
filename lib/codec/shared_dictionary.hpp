// Internal: a loaded dictionary whose digested zstd forms are built once and shared by streams.
//
// A digested zstd dictionary (ZSTD_CDict / ZSTD_DDict) costs time and memory to build and is
// read-only afterwards, so every stream of a device should share one. The public API passes the
// dictionary bytes as CodecParams::dictionary (a shared_ptr), so the digests travel in that
// pointer's control block, as the deleter's state: whoever shares the bytes shares the digests,
// and they die with the last user, without any process-wide cache.
#pragma once

#include <zstd.h>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

namespace trueno::codec_detail {

struct ZstdDictionaryDigests {
    std::mutex mutex;                                 // streams are created from several threads
    std::map<int, std::shared_ptr<const ZSTD_CDict>> compress_by_level; // a CDict fixes its level
    std::shared_ptr<const ZSTD_DDict> decompress;
};

// The deleter of CodecParams::dictionary made by parse_codec_params; carries the digests.
struct SharedDictionaryDeleter {
    std::shared_ptr<ZstdDictionaryDigests> digests;
    void operator()(const std::vector<std::byte>* bytes) const noexcept { delete bytes; }
};

std::shared_ptr<const std::vector<std::byte>> make_shared_dictionary(std::vector<std::byte> bytes);

// The digests attached to a dictionary, or fresh private ones for a dictionary that was built
// some other way (then that stream digests it alone: correct, only slower to create).
std::shared_ptr<ZstdDictionaryDigests>
dictionary_digests(const std::shared_ptr<const std::vector<std::byte>>& dictionary);

} // namespace trueno::codec_detail
