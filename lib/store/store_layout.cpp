#include "store_layout.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <xxhash.h>

namespace trueno::store {

namespace {

std::uint64_t round_up(std::uint64_t value, std::uint64_t step) {
    return (value + step - 1) / step * step;
}

} // namespace

ArenaGeometry plan_arena(std::uint64_t pages, std::uint64_t max_objects, std::uint64_t ram_bytes) {
    ArenaGeometry g{};
    g.pages = pages;
    g.max_objects = max_objects;
    std::uint64_t at = kHeaderBytes;
    g.slots_offset = at;
    at = round_up(at + pages * 16, kPageSize);
    g.object_capacity =
        std::min<std::uint64_t>(max_objects, std::numeric_limits<std::uint32_t>::max());
    g.objects_offset = at;
    at = round_up(at + std::max<std::uint64_t>(1, g.object_capacity) * 16, kPageSize);
    g.blobs_offset = at;
    g.blobs_bytes = kBlobBytes;
    at += kBlobBytes;
    // A class holds at most max_objects objects, and never more than the RAM: the store's
    // memory is locked, so it cannot outgrow it (this keeps the address space of a device far
    // larger than RAM within reach of a 47-bit address space).
    const std::uint64_t ram_segments = ram_bytes / kSegmentBytes + 2;
    for (std::size_t c = 0; c < kClassCount; ++c) {
        const std::uint64_t size = (c + 1) * 16;
        const std::uint64_t per_segment = kSegmentBytes / size;
        g.class_segments[c] = std::min((max_objects + per_segment - 1) / per_segment, ram_segments);
        g.class_offset[c] = at;
        at += g.class_segments[c] * kSegmentBytes;
    }
    g.arena_bytes = at;
    return g;
}

std::uint64_t header_checksum(const ArenaHeader& header) {
    XXH3_state_t* state = XXH3_createState();
    XXH3_64bits_reset(state);
    XXH3_64bits_update(state, &header.geometry, sizeof header.geometry);
    XXH3_64bits_update(state, &header.identity, sizeof header.identity);
    const std::uint64_t sum = XXH3_64bits_digest(state);
    XXH3_freeState(state);
    return sum;
}

Status check_header(const ArenaHeader& h, std::size_t arena_bytes) {
    if (h.magic != kArenaMagic)
        return make_error(EINVAL, "not a trueno-zram store (no magic number)");
    const bool known =
        (h.layout_version == kLayoutVersion && h.header_bytes == sizeof(ArenaHeader)) ||
        (h.layout_version == kLayoutVersionWithoutWriteback &&
         h.header_bytes == kHeaderBytesVersion1);
    if (!known)
        return make_error(EPROTO, "store layout version " + std::to_string(h.layout_version) +
                                      " (header " + std::to_string(h.header_bytes) +
                                      " bytes); this trueno-zramd knows version " +
                                      std::to_string(kLayoutVersion) + " (" +
                                      std::to_string(sizeof(ArenaHeader)) + " bytes)");
    if (h.checksum != header_checksum(h))
        return make_error(EBADMSG, "store header checksum mismatch (corrupted)");
    const ArenaGeometry& g = h.geometry;
    auto inside = [&](std::uint64_t offset, std::uint64_t bytes) {
        return offset >= kHeaderBytes && offset <= arena_bytes && bytes <= arena_bytes - offset;
    };
    bool ok = g.arena_bytes <= arena_bytes && g.pages != 0 && g.max_objects >= g.pages &&
              h.identity.disksize == g.pages * kPageSize && inside(g.slots_offset, g.pages * 16) &&
              inside(g.objects_offset, g.object_capacity * 16) &&
              inside(g.blobs_offset, g.blobs_bytes) &&
              g.objects_offset >= g.slots_offset + g.pages * 16 &&
              g.blobs_offset >= g.objects_offset + g.object_capacity * 16;
    std::uint64_t end = g.blobs_offset + g.blobs_bytes;
    for (std::size_t c = 0; ok && c < kClassCount; ++c) {
        ok = g.class_offset[c] >= end && g.class_segments[c] <= arena_bytes / kSegmentBytes &&
             inside(g.class_offset[c], g.class_segments[c] * kSegmentBytes);
        end = g.class_offset[c] + g.class_segments[c] * kSegmentBytes;
    }
    if (!ok)
        return make_error(EBADMSG, "store geometry does not fit its memory (corrupted)");
    if (h.generation_count > kMaxGenerations)
        return make_error(EBADMSG, "store lists " + std::to_string(h.generation_count) +
                                       " codec generations (corrupted)");
    return {};
}

CodecRecord codec_record(std::string_view algorithm, const CodecParams& params,
                         std::uint64_t dict_offset) {
    CodecRecord r{};
    set_record_text(r.algorithm, algorithm);
    r.has_level = params.level.has_value() ? 1 : 0;
    r.level = params.level.value_or(0);
    r.dict_offset = dict_offset;
    r.dict_bytes = params.dictionary ? params.dictionary->size() : 0;
    set_record_text(r.dict_path, params.dict_path);
    return r;
}

} // namespace trueno::store
