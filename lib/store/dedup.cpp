// Deduplication of identical pages, run by recompression passes on the pages they select:
// pages are hashed (xxh3) after decompression, a hash seen before is confirmed by comparing
// the whole page, and the copies then share one reference-counted object. Done in the
// background rather than on the write path, as KSM does, so writes pay nothing for it.
#include <xxhash.h>

#include <array>
#include <cstring>
#include <unordered_map>

#include "compressed_page_store.hpp"
#include "recompress_filter.hpp"

namespace trueno::store {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

} // namespace

std::optional<std::uint32_t> CompressedPageStore::dedup_object(std::uint64_t index, unsigned codec,
                                                               MutablePageView page) {
    Slot& slot = slots_[index];
    std::uint32_t kind = 0;
    std::uint32_t id = 0;
    {
        SlotGuard guard(slot);
        kind = SlotTable::kind(slot);
        const bool dedup_object = (kind & slot_flags::kShared) && !(kind & slot_flags::kGroupMember);
        if (dedup_object) {
            id = static_cast<std::uint32_t>(slot.value);
            objects_.get(id); // the slot holds one, so it is alive
        }
    }
    if (kind & slot_flags::kShared) {
        if (kind & slot_flags::kGroupMember) return std::nullopt;
        if (!decode_shared(index, kind, id, page)) {
            drop_shared(kind, id, true);
            return std::nullopt;
        }
        return id;
    }

    // A single object: it becomes a shared one, recompressed when that makes it smaller.
    auto snap = std::make_unique<Snapshot>();
    if (!snapshot(index, *snap)) return std::nullopt;
    if (!decode_object(index, snap->kind, {snap->bytes.data(), snap->size}, page)) return std::nullopt;
    std::span<const std::byte> payload(snap->bytes.data(), snap->size);
    unsigned payload_codec = (snap->kind & slot_flags::kCodecMask) >> slot_flags::kCodecShift;
    bool raw = snap->kind & slot_flags::kHuge;
    std::optional<StreamPool::Lease> stream;
    if (codec != 0 && payload_codec != codec) {
        stream.emplace(recomp_.at(codec).streams->acquire());
        const std::size_t size = stream->codec().compress(
            page, std::span<std::byte>(stream->buffer()).first(std::min(snap->size, kHugeSize) - 1));
        if (size != 0 && SizeClassAllocator::class_for_size(size) <
                             SizeClassAllocator::class_for_size(snap->size)) {
            payload = std::span<const std::byte>(stream->buffer().data(), size);
            payload_codec = codec;
            raw = false;
        }
    }
    const std::uint64_t member = index;
    auto made = objects_.create(payload, std::span(&member, 1), payload_codec, raw);
    if (!made) return std::nullopt;
    id = *made;
    compr_data_size_.fetch_add(payload.size(), kRelaxed);
    shared_objects_.fetch_add(1, kRelaxed);
    bool installed = false;
    {
        SlotGuard guard(slot);
        if (unchanged(slot, *snap)) {
            objects_.get(id);
            const std::uint32_t idle = SlotTable::kind(slot) & slot_flags::kIdle;
            SlotTable::set_content(slot, idle | slot_flags::kShared | (raw ? slot_flags::kHuge : 0u), id,
                                   slot.access_time);
            compr_data_size_.fetch_sub(snap->size, kRelaxed);
            if ((snap->kind & slot_flags::kHuge) && !raw) huge_pages_.fetch_sub(1, kRelaxed);
            dedup_slots_.fetch_add(1, kRelaxed);
            installed = true;
        }
    }
    if (!installed) {
        drop_shared(slot_flags::kShared, id, true);
        return std::nullopt;
    }
    allocator_->free(snap->value);
    return id; // with the creator's reference, now the caller's
}

void CompressedPageStore::dedup_pass(const RecompressOptions& options, unsigned codec,
                                     RecompressReport& report) {
    std::unordered_map<std::uint64_t, std::uint64_t> first_seen; // hash -> page
    auto snap = std::make_unique<Snapshot>();
    alignas(64) std::array<std::byte, kPageSize> page;
    alignas(64) std::array<std::byte, kPageSize> original;
    auto holds_dedup_object = [&](std::uint32_t kind) {
        return (kind & slot_flags::kShared) && !(kind & slot_flags::kGroupMember);
    };
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        if (options.max_pages != 0 && report.tried >= options.max_pages) break;
        bool shared_here = false;
        {
            // Dedup objects can take more copies; grouped pages are not candidates.
            Slot& slot = slots_[index];
            SlotGuard guard(slot);
            const std::uint32_t kind = SlotTable::kind(slot);
            shared_here = holds_dedup_object(kind);
            if (!((kind & slot_flags::kObject) || shared_here) || !type_matches(options.type, kind)) continue;
            if (!decode(index, slot, page)) continue; // its reader reports EIO
        }
        const std::uint64_t hash = XXH3_64bits(page.data(), page.size());
        auto [seen, inserted] = first_seen.try_emplace(hash, index);
        if (inserted) continue;

        // Same hash: the copy that holds a shared object already keeps it, the other joins.
        std::uint64_t target = seen->second;
        std::uint64_t source = index;
        if (shared_here) {
            Slot& first = slots_[target];
            SlotGuard guard(first);
            if (!holds_dedup_object(SlotTable::kind(first))) std::swap(target, source);
        }
        seen->second = target;
        auto id = dedup_object(target, codec, original);
        if (!id) {
            seen->second = index; // the first copy changed; this page stands in for it
            continue;
        }
        // Only a single object that decodes to exactly the shared bytes is replaced, and only
        // if it still holds what was compared.
        bool linked = false;
        Slot& slot = slots_[source];
        if (snapshot(source, *snap) &&
            decode_object(source, snap->kind, {snap->bytes.data(), snap->size}, page) &&
            std::memcmp(page.data(), original.data(), kPageSize) == 0) {
            const auto info = objects_.read(*id, {});
            SlotGuard guard(slot);
            if (unchanged(slot, *snap)) {
                const std::uint32_t idle = SlotTable::kind(slot) & slot_flags::kIdle;
                SlotTable::set_content(slot, idle | slot_flags::kShared | (info.raw ? slot_flags::kHuge : 0u),
                                       *id, slot.access_time);
                compr_data_size_.fetch_sub(snap->size, kRelaxed);
                if ((snap->kind & slot_flags::kHuge) && !info.raw) huge_pages_.fetch_sub(1, kRelaxed);
                if (!(snap->kind & slot_flags::kHuge) && info.raw) {
                    huge_pages_.fetch_add(1, kRelaxed);
                    huge_pages_since_.fetch_add(1, kRelaxed);
                }
                dedup_slots_.fetch_add(1, kRelaxed);
                linked = true;
            }
        }
        if (linked) {
            allocator_->free(snap->value);
            ++report.deduplicated;
        } else {
            drop_shared(slot_flags::kShared, *id, true);
        }
    }
}

} // namespace trueno::store
