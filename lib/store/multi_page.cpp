// Multi-page objects: runs of cold pages recompressed together in one zstd frame (neighbouring
// heap pages share far more than one page's window can see), read through a small cache of
// decompressed groups, and split back into single pages once half of a group is gone.
//
// A write or discard to a member only detaches that page: splitting on every write would cost
// a whole-group decompression plus a compression per remaining member on the I/O path, and
// swap frees a slot on every swap-in. A group that lost half of its members is split by the
// next recompression pass instead.
#include <algorithm>
#include <array>
#include <cstring>

#include "compressed_page_store.hpp"
#include "recompress_filter.hpp"

namespace trueno::store {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

} // namespace

std::optional<StreamPool::Lease> CompressedPageStore::stream_for(unsigned codec) {
    if (codec == 0) return streams_->acquire();
    if (!recomp_.valid(codec)) return std::nullopt;
    return recomp_.at(codec).streams->acquire();
}

Status CompressedPageStore::decode_shared(std::uint64_t index, std::uint32_t kind,
                                          std::uint32_t id, MutablePageView out) {
    auto damaged = [&](const std::string& why) {
        return make_error(EIO, "page " + std::to_string(index) + ": shared object " +
                                   std::to_string(id) + " " + why);
    };
    if (!(kind & slot_flags::kGroupMember)) {
        alignas(64) std::array<std::byte, kPageSize> payload;
        const auto info = objects_.read(id, payload);
        if (info.members != 1 || info.payload_size > kPageSize) return damaged("is damaged");
        const std::uint32_t as_kind =
            (info.raw ? slot_flags::kHuge : 0u) | (info.codec << slot_flags::kCodecShift);
        return decode_object(index, as_kind, {payload.data(), info.payload_size}, out);
    }
    const std::uint32_t member = kind & slot_flags::kSizeMask;
    const auto info = objects_.read(id, {});
    if (member >= info.members) return damaged("has no member " + std::to_string(member));
    return group_cache_.read(info.serial, member, out,
                             [&](std::span<std::byte> payload, std::span<std::byte> pages) -> Status {
                                 const auto full = objects_.read(id, payload);
                                 if (full.payload_size > payload.size() ||
                                     full.members > SharedObjects::kMaxMembers || member >= full.members)
                                     return damaged("is damaged");
                                 auto stream = stream_for(full.codec);
                                 if (!stream) return damaged("uses unknown codec " + std::to_string(full.codec));
                                 auto status = stream->codec().decompress(
                                     payload.first(full.payload_size),
                                     pages.first(std::size_t{full.members} * kPageSize));
                                 if (!status) return damaged("does not decompress (" + status.error().message + ")");
                                 return {};
                             });
}

void CompressedPageStore::drop_shared(std::uint32_t kind, std::uint32_t id, bool creator) {
    const bool group = kind & slot_flags::kGroupMember;
    if (!group && !creator) dedup_slots_.fetch_sub(1, kRelaxed);
    const auto dropped = objects_.put(id);
    if (dropped.refs_left == 0) {
        compr_data_size_.fetch_sub(dropped.payload_size, kRelaxed);
        (group ? groups_ : shared_objects_).fetch_sub(1, kRelaxed);
    } else if (group) {
        if (dropped.refs_left <= dropped.members / 2) objects_.mark_sparse(id);
    }
}

std::optional<CompressedPageStore::SharedPage> CompressedPageStore::shared_page(std::uint64_t index) {
    if (index >= page_count()) return std::nullopt;
    Slot& slot = slots_[index];
    SlotGuard guard(slot); // holds the slot's reference while we look
    const std::uint32_t kind = SlotTable::kind(slot);
    if (!(kind & slot_flags::kShared)) return std::nullopt;
    const auto id = static_cast<std::uint32_t>(slot.value);
    const bool group = kind & slot_flags::kGroupMember;
    return SharedPage{id, group, group ? (kind & slot_flags::kSizeMask) : 0u, objects_.refs(id),
                      objects_.read(id, {})};
}

bool CompressedPageStore::snapshot(std::uint64_t index, Snapshot& out) {
    Slot& slot = slots_[index];
    SlotGuard guard(slot);
    const std::uint32_t kind = SlotTable::kind(slot);
    if (!(kind & slot_flags::kObject)) return false;
    out.index = index;
    out.kind = kind;
    out.value = slot.value;
    out.size = kind & slot_flags::kSizeMask;
    out.access_time = slot.access_time;
    std::memcpy(out.bytes.data(), allocator_->address(slot.value), out.size);
    return true;
}

bool CompressedPageStore::unchanged(Slot& slot, const Snapshot& snap) const {
    // Idle and the recompression verdict may change meanwhile; content may not.
    constexpr std::uint32_t kIgnored = slot_flags::kIdle | slot_flags::kIncompressible;
    return (SlotTable::kind(slot) & ~kIgnored) == (snap.kind & ~kIgnored) && slot.value == snap.value &&
           std::memcmp(allocator_->address(snap.value), snap.bytes.data(), snap.size) == 0;
}

std::uint64_t CompressedPageStore::split_sparse_groups(RecompressReport& report) {
    const auto ids = objects_.take_sparse();
    for (auto id : ids) split_group(id, report);
    return ids.size();
}

void CompressedPageStore::split_group(std::uint32_t id, RecompressReport& report) {
    if (!objects_.try_get(id)) return; // freed meanwhile: nothing left to split
    std::vector<std::byte> payload(SharedObjects::kMaxPayload);
    const auto info = objects_.read(id, payload);
    std::vector<std::byte> pages(std::size_t{info.members} * kPageSize);
    bool decoded = false;
    if (info.members > 1 && info.members <= SharedObjects::kMaxMembers &&
        info.payload_size <= payload.size()) {
        if (auto stream = stream_for(info.codec))
            decoded = static_cast<bool>(
                stream->codec().decompress(std::span(payload).first(info.payload_size), pages));
    }
    if (decoded) {
        for (std::uint32_t member = 0; member < info.members; ++member) {
            const std::uint64_t index = objects_.member_page(id, member);
            if (index >= page_count()) continue;
            Slot& slot = slots_[index];
            auto is_member = [&] {
                const std::uint32_t kind = SlotTable::kind(slot);
                return (kind & slot_flags::kGroupMember) && slot.value == id &&
                       (kind & slot_flags::kSizeMask) == member;
            };
            {
                SlotGuard guard(slot);
                if (!is_member()) continue; // rewritten or discarded since
            }
            // Compress and allocate without the lock; the group's copy cannot change.
            const std::span<const std::byte, kPageSize> page(pages.data() + member * kPageSize, kPageSize);
            auto stream = stream_for(info.codec); // known: it decoded the group
            // No memory for the codec's compression state: as at the memory limit.
            if (!stream || !stream->codec().prepare_compression())
                break;
            const std::size_t size =
                stream->codec().compress(page, std::span<std::byte>(stream->buffer()).first(kHugeSize - 1));
            const bool huge = size == 0;
            const std::size_t stored = huge ? kPageSize : size;
            auto handle = allocator_->allocate(stored, index);
            if (!handle) break; // memory limit: the rest stays grouped
            std::memcpy(allocator_->address(*handle), huge ? page.data() : stream->buffer().data(), stored);
            bool installed = false;
            std::uint32_t old_kind = 0;
            {
                SlotGuard guard(slot);
                if (is_member()) {
                    old_kind = SlotTable::kind(slot);
                    SlotTable::set_content(slot,
                                           (old_kind & slot_flags::kIdle) | slot_flags::kObject |
                                               (huge ? slot_flags::kHuge : info.codec << slot_flags::kCodecShift) |
                                               static_cast<std::uint32_t>(stored),
                                           *handle, slot.access_time);
                    grouped_pages_.fetch_sub(1, kRelaxed);
                    compr_data_size_.fetch_add(stored, kRelaxed);
                    if (huge) {
                        huge_pages_.fetch_add(1, kRelaxed);
                        huge_pages_since_.fetch_add(1, kRelaxed);
                    }
                    installed = true;
                }
            }
            if (installed) drop_shared(old_kind, id);
            else allocator_->free(*handle);
        }
        ++report.split;
    }
    drop_shared(slot_flags::kGroupMember, id, true);
}

void CompressedPageStore::group_pass(const RecompressOptions& options, unsigned codec,
                                     RecompressReport& report) {
    std::vector<Snapshot> run(options.group_pages);
    std::vector<std::byte> pages(std::size_t{options.group_pages} * kPageSize);
    std::vector<std::byte> payload(SharedObjects::kMaxPayload);
    std::size_t count = 0;
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        if (options.max_pages != 0 && report.tried + count >= options.max_pages) break;
        Snapshot& snap = run[count];
        if (!snapshot(index, snap) || !type_matches(options.type, snap.kind)) continue;
        if (!decode_object(index, snap.kind, {snap.bytes.data(), snap.size},
                           std::span(pages).subspan(count * kPageSize).first<kPageSize>()))
            continue; // its reader reports EIO
        if (++count == options.group_pages) {
            flush_group(std::span(run).first(count), pages, payload, options, codec, report);
            count = 0;
        }
    }
    if (count != 0) flush_group(std::span(run).first(count), pages, payload, options, codec, report);
}

void CompressedPageStore::flush_group(std::span<const Snapshot> run, std::span<std::byte> pages,
                                      std::span<std::byte> payload,
                                      const RecompressOptions& options, unsigned codec,
                                      RecompressReport& report) {
    std::size_t old_bytes = 0;
    for (const auto& snap : run)
        old_bytes += SizeClassAllocator::size_of_class(SizeClassAllocator::class_for_size(snap.size));
    std::size_t size = 0;
    if (run.size() > 1) {
        auto stream = recomp_.at(codec).streams->acquire();
        // No memory for the codec's compression state: nothing changes in this pass.
        if (!stream.codec().prepare_compression())
            return;
        size = stream.codec().compress(pages.first(run.size() * kPageSize), payload);
    }
    // Not worth a group (a single page, or no smaller in total): page by page instead.
    if (size == 0 || SharedObjects::allocated_bytes(size, run.size()) >= old_bytes) {
        for (const auto& snap : run) recompress_page(snap.index, options, codec, report);
        return;
    }
    // Reads of members go through the group cache, which must not fault on the I/O path.
    if (!group_cache_.populate()) {
        for (const auto& snap : run) recompress_page(snap.index, options, codec, report);
        return;
    }
    report.tried += run.size();
    std::array<std::uint64_t, SharedObjects::kMaxMembers> members{};
    for (std::size_t m = 0; m < run.size(); ++m) members[m] = run[m].index;
    auto id = objects_.create(payload.first(size), std::span(members).first(run.size()), codec, false);
    if (!id) return; // memory limit or no id: the pages stay as they are
    compr_data_size_.fetch_add(size, kRelaxed);
    groups_.fetch_add(1, kRelaxed);

    std::uint64_t installed = 0;
    for (std::size_t m = 0; m < run.size(); ++m) {
        const Snapshot& snap = run[m];
        Slot& slot = slots_[snap.index];
        bool swapped = false;
        {
            SlotGuard guard(slot);
            if (unchanged(slot, snap)) {
                objects_.get(*id);
                const std::uint32_t idle = SlotTable::kind(slot) & slot_flags::kIdle;
                SlotTable::set_content(slot,
                                       idle | slot_flags::kShared | slot_flags::kGroupMember |
                                           static_cast<std::uint32_t>(m),
                                       *id, slot.access_time);
                compr_data_size_.fetch_sub(snap.size, kRelaxed);
                if (snap.kind & slot_flags::kHuge) huge_pages_.fetch_sub(1, kRelaxed);
                grouped_pages_.fetch_add(1, kRelaxed);
                swapped = true;
            }
        }
        if (swapped) {
            allocator_->free(snap.value);
            ++installed;
            report.bytes_before += snap.size;
        } else {
            ++report.raced;
        }
    }
    if (installed != 0) {
        ++report.groups;
        report.grouped += installed;
        report.kept += installed;
        report.bytes_after += size;
    }
    drop_shared(slot_flags::kGroupMember, *id, true);
}

} // namespace trueno::store
