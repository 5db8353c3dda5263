// Taking a store over from a process that is gone, and keeping in the header what the slots
// cannot tell (codec generations, dictionaries, the saved policy).
//
// The slot table is the truth. A process may have died at any instruction: between allocating
// an object and installing it (the object is simply not referred to), halfway through a
// compaction move (the slot still points at the old place), in a recompression or dedup pass
// (each slot was switched in one store, and reference counts are recounted here), with locks
// held (no one holds them now). So the attach rebuilds the allocator's bookkeeping, the shared
// objects' reference counts and free list, and every statistic derived from the slots, and
// only trusts the header for the rest after check_header().
#include "compressed_page_store.hpp"

#include <cstring>
#include <spdlog/spdlog.h>
#include <unordered_map>

namespace trueno::store {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

} // namespace

Result<std::uint64_t> CompressedPageStore::store_blob(std::span<const std::byte> bytes) {
    const std::uint64_t used = header_.blobs_used.load();
    if (bytes.size() > header_.geometry.blobs_bytes - used)
        return make_error(ENOSPC, "the store's dictionary area is full (" +
                                      std::to_string(header_.geometry.blobs_bytes >> 20) +
                                      " MiB); reset the device to train more dictionaries");
    std::memcpy(arena_.data() + header_.geometry.blobs_offset + used, bytes.data(), bytes.size());
    std::atomic_signal_fence(std::memory_order_release);
    header_.blobs_used.store(used + bytes.size());
    return used;
}

std::shared_ptr<const std::vector<std::byte>>
CompressedPageStore::load_blob(std::uint64_t offset, std::uint64_t bytes) const {
    if (bytes == 0 || offset > header_.geometry.blobs_bytes ||
        bytes > header_.geometry.blobs_bytes - offset)
        return nullptr;
    const std::byte* at = arena_.data() + header_.geometry.blobs_offset + offset;
    return std::make_shared<const std::vector<std::byte>>(at, at + bytes);
}

CodecParams CompressedPageStore::params_of(const CodecRecord& record) const {
    CodecParams params;
    if (record.has_level)
        params.level = record.level;
    params.dict_path = record_text(record.dict_path);
    params.dictionary = load_blob(record.dict_offset, record.dict_bytes);
    return params;
}

Result<unsigned> CompressedPageStore::add_generation(unsigned priority,
                                                     const std::string& algorithm,
                                                     const CodecParams& params) {
    std::lock_guard settings(settings_mutex_);
    if (header_.generation_count >= kMaxGenerations)
        return make_error(ENOSPC,
                          "all " + std::to_string(kMaxGenerations) +
                              " recompression codec generations are used; reset the device");
    std::uint64_t dict_offset = 0;
    if (params.dictionary) {
        auto offset = store_blob(*params.dictionary);
        if (!offset)
            return offset.error();
        dict_offset = *offset;
    }
    auto made = recomp_.add(priority, algorithm, params);
    if (!made)
        return made.error();
    // Ids are handed out in order, one per record: the record goes to index id - 1 and is
    // published by the count. Pages can use the generation only after this returns.
    const unsigned id = *made;
    GenerationRecord& record = header_.generations[id - 1];
    record.priority = priority;
    record.codec = codec_record(algorithm, params, dict_offset);
    std::atomic_signal_fence(std::memory_order_release);
    std::atomic_ref<std::uint32_t>(header_.generation_count).store(id, std::memory_order_release);
    header_.current_generation[priority] = id;
    return id;
}

Status CompressedPageStore::replay_generations() {
    std::lock_guard settings(settings_mutex_);
    const std::uint32_t count = header_.generation_count;
    for (std::uint32_t i = 0; i < count; ++i) {
        const GenerationRecord& record = header_.generations[i];
        const std::string algorithm = record_text(record.codec.algorithm);
        if (record.priority < 1 || record.priority > kMaxRecompPriority)
            return make_error(EBADMSG, "codec generation " + std::to_string(i + 1) +
                                           " has priority " + std::to_string(record.priority) +
                                           " (corrupted)");
        auto id = recomp_.add(record.priority, algorithm, params_of(record.codec));
        if (!id)
            return make_error(EPROTO, "recompression codec generation " + std::to_string(i + 1) +
                                          " (" + algorithm +
                                          ") cannot be made: " + id.error().message);
    }
    return {};
}

Status CompressedPageStore::save_policy(std::string_view text) {
    if (text.size() >= header_.policy_text[0].size())
        return make_error(EINVAL, "policy text longer than " +
                                      std::to_string(header_.policy_text[0].size() - 1) + " bytes");
    std::lock_guard settings(settings_mutex_);
    // Write the spare copy, then switch to it: a process killed meanwhile leaves the old one.
    const std::uint32_t next = 1 - (header_.policy_current & 1);
    set_record_text(header_.policy_text[next], text);
    std::atomic_signal_fence(std::memory_order_release);
    std::atomic_ref<std::uint32_t>(header_.policy_current).store(next, std::memory_order_release);
    return {};
}

std::string CompressedPageStore::saved_policy() const {
    return record_text(header_.policy_text[header_.policy_current & 1]);
}

void CompressedPageStore::damage(Slot& slot) {
    SlotTable::set_content(slot, slot_flags::kDamaged, 0, slot.access_time);
    damaged_pages_.fetch_add(1, kRelaxed);
}

void CompressedPageStore::rebuild(bool keep_reserve) {
    constexpr std::uint32_t kKinds =
        slot_flags::kSame | slot_flags::kObject | slot_flags::kShared | slot_flags::kBacked;
    // Version 2: the backing device, opened again before its slots are counted.
    reopen_backing();
    Backing* backing = this->backing();
    // 1. Which shared objects the slots refer to, and how often: their reference counts.
    std::unordered_map<std::uint32_t, std::uint32_t> references;
    std::uint32_t high_water = 0;
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        SlotTable::unlock(slot); // a lock held by the dead process
        const std::uint32_t kind = SlotTable::kind(slot);
        if (!(kind & slot_flags::kShared))
            continue;
        if (slot.value >= objects_.capacity())
            continue; // damaged below
        const auto id = static_cast<std::uint32_t>(slot.value);
        ++references[id];
        high_water = std::max(high_water, id + 1);
    }
    // 2. Those objects, checked, with their chunks handed to the allocator.
    objects_.begin_adoption(high_water);
    std::unordered_map<std::uint32_t, SharedObjects::Info> objects;
    std::uint64_t max_serial = 0;
    for (const auto& [id, refs] : references) {
        auto info = objects_.inspect(id);
        Status adopted = info ? objects_.adopt(id, refs) : Status(info.error());
        if (!adopted) {
            spdlog::error("store: {}; its {} page(s) will read as errors", adopted.error().message,
                          refs);
            continue;
        }
        objects.emplace(id, *info);
        max_serial = std::max(max_serial, info->serial);
    }
    objects_.finish_adoption(max_serial);

    // 3. Every slot: its object adopted, the statistics counted again.
    std::uint64_t stored = 0, same = 0, huge = 0, compressed = 0, grouped = 0, dedup_slots = 0,
                  backed = 0;
    for (std::uint64_t index = 0; index < page_count(); ++index) {
        Slot& slot = slots_[index];
        const std::uint32_t kind = SlotTable::kind(slot);
        if (!(kind & kKinds))
            continue; // empty, or damaged by an earlier attach
        if (kind & slot_flags::kObject) {
            const std::size_t size = kind & slot_flags::kSizeMask;
            const bool size_ok =
                (kind & slot_flags::kHuge) ? size == kPageSize : size >= 1 && size < kHugeSize;
            // A borrowed slot of a larger class is fine; a smaller one cannot hold the object.
            const bool class_ok = allocator_->valid(slot.value) && size_ok &&
                                  allocator_->class_size(slot.value) >= size;
            if (!class_ok || !allocator_->adopt(slot.value, index)) {
                SlotGuard guard(slot);
                damage(slot);
                continue;
            }
            compressed += size;
        } else if (kind & slot_flags::kBacked) {
            // Its place must lie on the device and fit its block with the others found there.
            const std::uint32_t size = kind & slot_flags::kSizeMask;
            const bool size_ok =
                (kind & slot_flags::kHuge) ? size == kPageSize : size >= 1 && size < kHugeSize;
            if (backing == nullptr || !size_ok ||
                !backing->blocks.add_live(backing_location(slot.value, size))) {
                SlotGuard guard(slot);
                damage(slot);
                continue;
            }
            ++backed;
            ++stored;
            continue; // not in RAM: neither huge_pages nor compr_data_size
        } else if (kind & slot_flags::kShared) {
            auto it = objects.find(static_cast<std::uint32_t>(slot.value));
            const bool group = kind & slot_flags::kGroupMember;
            if (slot.value >= objects_.capacity() || it == objects.end() ||
                (group && (kind & slot_flags::kSizeMask) >= it->second.members) ||
                (!group && it->second.members != 1)) {
                SlotGuard guard(slot);
                damage(slot);
                continue;
            }
            if (group)
                ++grouped;
            else
                ++dedup_slots;
        } else {
            ++same;
        }
        ++stored;
        if (kind & slot_flags::kHuge)
            ++huge;
    }
    allocator_->finish_adoption(keep_reserve);
    if (backing != nullptr)
        backing->blocks.end_rebuild();
    backed_pages_.store(backed, kRelaxed);
    std::uint64_t groups = 0, dedup_objects = 0;
    for (const auto& [id, info] : objects) {
        compressed += info.payload_size;
        if (info.members > 1)
            ++groups;
        else
            ++dedup_objects;
    }
    stored_pages_.store(stored, kRelaxed);
    same_pages_.store(same, kRelaxed);
    huge_pages_.store(huge, kRelaxed);
    compr_data_size_.store(compressed, kRelaxed);
    grouped_pages_.store(grouped, kRelaxed);
    groups_.store(groups, kRelaxed);
    dedup_slots_.store(dedup_slots, kRelaxed);
    shared_objects_.store(dedup_objects, kRelaxed);
    if (const auto damaged = damaged_pages(); damaged != 0)
        spdlog::error("store: {} page(s) were unusable when the store was taken over; they read as "
                      "errors until written again",
                      damaged);
}

} // namespace trueno::store
