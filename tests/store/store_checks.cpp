#include "store_checks.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <set>

#include "compressed_page_store.hpp"
#include "store_fixtures.hpp"
#include "test_pages.hpp"

namespace trueno::test {

void require_page(PageStore& store, std::uint64_t index, std::span<const std::byte> expected) {
    Page page;
    auto status = store.read_page(index, page);
    INFO("page " << index << (status.ok() ? "" : ": " + status.error().message));
    REQUIRE(status.ok());
    REQUIRE(std::memcmp(page.data(), expected.data(), kPageSize) == 0);
}

void require_identical(PageStore& store, const std::vector<std::byte>& pages, std::uint64_t first) {
    for (std::uint64_t i = 0; i < pages.size() / kPageSize; ++i)
        require_page(store, first + i, page_of(pages, i));
}

void require_stats_exact(PageStore& store) {
    auto& s = dynamic_cast<store::CompressedPageStore&>(store);
    std::uint64_t compr = 0, huge = 0, grouped = 0, stored = 0, recompressed = 0, backed = 0;
    std::set<std::uint64_t> backing_blocks;
    std::map<std::uint32_t, std::uint64_t> dedup_refs; // id -> pages referring to it
    std::set<std::uint32_t> groups;
    std::map<std::uint32_t, std::uint64_t> slots_of;    // id -> slots referring to it
    std::map<std::uint32_t, std::uint32_t> refs_of;     // id -> its reference count
    for (std::uint64_t i = 0; i < s.page_count(); ++i) {
        auto object = s.stored_object(i);
        if (auto shared = s.shared_page(i)) {
            ++stored;
            ++slots_of[shared->id];
            refs_of[shared->id] = shared->refs;
            if (shared->info.codec != 0) ++recompressed;
            if (shared->group) {
                ++grouped;
                if (groups.insert(shared->id).second) compr += shared->info.payload_size;
            } else {
                if (dedup_refs[shared->id]++ == 0) compr += shared->info.payload_size;
                if (shared->info.raw) ++huge;
            }
        } else if (auto place = s.backing_place(i)) {
            // Written back: stored, but neither in compr_data_size nor in huge_pages.
            ++stored;
            ++backed;
            for (const auto& part : store::backing_parts(*place))
                if (part.bytes != 0)
                    backing_blocks.insert(part.block);
        } else if (!object.empty()) {
            ++stored;
            if (s.codec_id(i) != 0) ++recompressed;
            compr += object.size();
            huge += object.size() == kPageSize ? 1 : 0;
        }
    }
    const MmStat mm = store.mm_stat();
    const std::uint64_t same = mm.same_pages; // same-filled and empty pages read alike
    const ObjectStat objects = store.object_stat();
    std::uint64_t dedup_pages = 0;
    for (auto [id, refs] : dedup_refs) dedup_pages += refs - 1;
    // At rest (no pass running) an object is referenced by exactly the slots that name it.
    for (auto [id, slots] : slots_of) CHECK(refs_of[id] == slots);
    CHECK(mm.compr_data_size == compr);
    CHECK(mm.huge_pages == huge);
    CHECK(mm.orig_data_size == (stored + same) * kPageSize);
    CHECK(objects.grouped_pages == grouped);
    CHECK(objects.groups == groups.size());
    CHECK(objects.dedup_pages == dedup_pages);
    CHECK(objects.shared_objects == dedup_refs.size());
    CHECK(objects.recompressed_pages == recompressed);
    CHECK(store.bd_stat().count == backed);
    CHECK(s.backing_used_blocks() == backing_blocks.size());
}

} // namespace trueno::test
