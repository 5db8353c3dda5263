// Per-page compression codecs behind one small interface, selected by the kernel's names
// (lzo, lzo-rle, lz4, lz4hc, zstd, deflate) with the kernel's algorithm_params.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "trueno/result.hpp"

namespace trueno {

// Parameters as the kernel's algorithm_params attribute: "level=N dict=PATH".
struct CodecParams {
    std::optional<int> level;
    std::string dict_path;                   // as given by the user, for display
    std::shared_ptr<const std::vector<std::byte>> dictionary; // loaded contents (zstd only)
    // Not the user's: compression's state (zstd: the dictionary digested for compression, 0.9
    // MB at level 9) is made by the first compress instead of with the stream, and a failure
    // to make it leaves that page uncompressed. For streams that mostly decompress and compress
    // only in the background (a recompression generation).
    bool compression_on_demand = false;
};

// Parses "level=3", "dict=/path", "level=3 dict=/path" (spaces or commas between pairs).
// Loads the dictionary file. Unknown keys, bad numbers and unreadable files are errors.
Result<CodecParams> parse_codec_params(std::string_view text);

// What a codec accepts, for validation and for listing in error messages.
struct CodecInfo {
    std::string_view name;
    bool has_level;
    int min_level;
    int max_level;
    int default_level;
    bool has_dictionary;
};

// One compression stream: owns its scratch state, not thread-safe (the store keeps a pool of
// them, like kernel zram's per-CPU streams).
class Codec {
public:
    virtual ~Codec() = default;

    virtual std::string_view name() const = 0;
    virtual int level() const = 0;

    // Compresses src into dst. Returns the compressed size, or 0 when the result would not fit
    // in dst (the caller stores the page raw). Never writes past dst.
    virtual std::size_t compress(std::span<const std::byte> src, std::span<std::byte> dst) = 0;

    // Decompresses src into dst, which must come out exactly dst.size() bytes long.
    // Corrupted or truncated input is an EIO error; never reads or writes out of bounds.
    virtual Status decompress(std::span<const std::byte> src, std::span<std::byte> dst) = 0;

    // Makes decompression ready to run without allocating: its workspace made and touched, for
    // a stream that reads pages on the I/O path. Compression's state may stay unmade until the
    // first compress (zstd: a dictionary digested for compression takes 0.9 MB at level 9). The
    // default round-trips `page` (one page) through compress() and decompress(), which makes
    // both. EIO when the round trip differs.
    virtual Status warm_decompression(std::span<const std::byte> page);

    // Makes what compress() needs that is not made yet (CodecParams::compression_on_demand);
    // ENOMEM when it cannot be, and compress() then returns 0 for every page. A caller that
    // takes 0 for "does not compress", and remembers that of the page, asks first.
    virtual Status prepare_compression() { return {}; }
};

// Every codec this build has, in the order comp_algorithm lists them.
std::span<const CodecInfo> available_codecs();

// "lzo lzo-rle lz4 lz4hc zstd deflate adaptive": for messages and for comp_algorithm.
std::string available_codec_names();

const CodecInfo* find_codec(std::string_view name);

// Creates a stream. Unknown name: EINVAL listing what is available; bad level or a dictionary
// for a codec without one: EINVAL saying what is allowed.
Result<std::unique_ptr<Codec>> make_codec(std::string_view name, const CodecParams& params = {});

// An address in the code of every shared library the codecs and page hashing run (lz4, zstd,
// xxhash, lzo, zlib), for a process that must keep that code resident: a page of a decoder
// first run under memory pressure would otherwise be read from disk on the swap-in path.
std::vector<const void*> codec_library_code();

} // namespace trueno
