// A store in shared memory outlives the process that made it: a new store attached to the same
// segment serves every page, with the same statistics and settings; a layout or header it does
// not understand is refused and left as it was.
#include "arena.hpp"
#include "backing_file.hpp"
#include "fault_count.hpp"
#include "shared_memory_key.hpp"
#include "slot_table.hpp"
#include "store_checks.hpp"
#include "store_fixtures.hpp"
#include "store_layout.hpp"
#include "test_pages.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <xxhash.h>

namespace trueno::test {
namespace {

StoreConfig persistent_config(std::int32_t key, std::uint64_t pages,
                              const char* algorithm = "lz4") {
    StoreConfig config;
    config.disksize = pages * kPageSize;
    config.algorithm = algorithm;
    config.streams = 2;
    config.shared_memory_key = key;
    return config;
}

std::unique_ptr<PageStore> attach(std::int32_t key) {
    auto attached = PageStore::attach(key, StoreConfig{});
    INFO((attached ? std::string() : attached.error().message));
    REQUIRE(attached.ok());
    return std::move(attached.value());
}

// A mix of page kinds, with duplicates for dedup and runs for multi-page objects.
std::vector<std::byte> mixed_pages(std::uint64_t count) {
    std::vector<std::byte> pages(count * kPageSize);
    for (std::uint64_t i = 0; i < count; ++i) {
        Page page = i % 11 == 0   ? same_filled_page(i % 3)
                    : i % 13 == 0 ? incompressible_page(i)
                    : i % 5 == 0  ? compressible_page(7) // many copies of one page
                                  : compressible_page(i);
        std::memcpy(pages.data() + i * kPageSize, page.data(), kPageSize);
    }
    return pages;
}

std::uint64_t hash_of(std::int32_t key) {
    auto raw = store::Arena::attach_shared(key, /*read_only=*/true);
    REQUIRE(raw.ok());
    return XXH3_64bits(raw->data(),
                       raw->size() < (std::size_t{64} << 20) ? raw->size() : std::size_t{64} << 20);
}

store::ArenaHeader& header_of(store::Arena& arena) {
    return *reinterpret_cast<store::ArenaHeader*>(arena.data());
}

} // namespace

TEST_CASE("a store in shared memory is taken over with every page, statistic and setting",
          "[persistence]") {
    SharedMemoryKey key;
    const std::uint64_t count = 2048;
    const auto pages = mixed_pages(count);
    MmStat mm;
    IoStat io;
    ObjectStat objects;
    {
        auto created = PageStore::create(persistent_config(key.value(), count + 64));
        REQUIRE(created.ok());
        auto& store = **created;
        write_all(store, pages);
        store.discard(100, 50);
        store.set_mem_limit(std::uint64_t{64} << 20);
        Page page;
        REQUIRE(store.read_page(count + 64, page).error().code == EINVAL); // invalid_io 1
        RecompressOptions options;
        options.type = RecompressOptions::Type::all;
        options.group_pages = 8;
        options.dedup = true;
        auto report = run_recompress_policy(store, *find_recompress_policy("strong"), options);
        REQUIRE(report.ok());
        REQUIRE(store.object_stat().groups > 0);
        REQUIRE(store.object_stat().dedup_pages > 0);
        REQUIRE(store.object_stat().recompressed_pages > 0);
        REQUIRE(store.save_policy("balanced age=60").ok());
        mm = store.mm_stat();
        io = store.io_stat();
        objects = store.object_stat();
    } // the store lets go of the segment: the memory stays

    auto store = attach(key.value());
    REQUIRE(store->attaches() == 1);
    REQUIRE(store->damaged_pages() == 0);
    for (std::uint64_t i = 0; i < count; ++i) {
        if (i >= 100 && i < 150)
            require_page(*store, i, same_filled_page(0));
        else
            require_page(*store, i, page_of(pages, i));
    }
    require_stats_exact(*store);
    const MmStat after = store->mm_stat();
    CHECK(after.orig_data_size == mm.orig_data_size);
    CHECK(after.compr_data_size == mm.compr_data_size);
    CHECK(after.mem_used_total <= mm.mem_used_total); // the reserve and emptied pages went back
    CHECK(after.mem_limit == mm.mem_limit);
    CHECK(after.mem_used_max == mm.mem_used_max);
    CHECK(after.same_pages == mm.same_pages);
    CHECK(after.pages_compacted == mm.pages_compacted);
    CHECK(after.huge_pages == mm.huge_pages);
    CHECK(after.huge_pages_since == mm.huge_pages_since);
    const IoStat io_after = store->io_stat();
    CHECK(io_after.invalid_io == io.invalid_io);
    CHECK(io_after.notify_free == io.notify_free);
    CHECK(io_after.failed_reads == io.failed_reads);
    const ObjectStat objects_after = store->object_stat();
    CHECK(objects_after.groups == objects.groups);
    CHECK(objects_after.grouped_pages == objects.grouped_pages);
    CHECK(objects_after.dedup_pages == objects.dedup_pages);
    CHECK(objects_after.recompressed_pages == objects.recompressed_pages);
    CHECK(store->saved_policy() == "balanced age=60");
    REQUIRE(!store->recomp_algorithms().empty());
    CHECK(store->recomp_algorithms().back().algorithm == "zstd");
    REQUIRE(store->recomp_algorithms().back().params.dictionary); // the trained one, kept
    CHECK(store->algorithm() == "lz4");
    CHECK(store->disksize() == (count + 64) * kPageSize);

    // The taken-over store works on: new writes, a compaction that moves objects, rewrites of
    // grouped and deduplicated pages.
    for (std::uint64_t i = 0; i < count; i += 3)
        REQUIRE(store->write_page(i, compressible_page(i + 99)).ok());
    store->compact();
    for (std::uint64_t i = 0; i < count; ++i) {
        if (i % 3 == 0)
            require_page(*store, i, compressible_page(i + 99));
        else if (i >= 100 && i < 150)
            require_page(*store, i, same_filled_page(0));
        else
            require_page(*store, i, page_of(pages, i));
    }
    require_stats_exact(*store);
}

TEST_CASE("a store taken over to serve I/O has the pages the dead server left mapped: reads do not fault",
          "[persistence][never-fault]") {
    SharedMemoryKey key;
    const std::uint64_t count = 4096;
    const auto pages = mixed_pages(count);
    StoreConfig serving;
    serving.never_fault_on_io = true;
    serving.refill_thread = false; // nothing populates or maps pages behind the test's back
    {
        StoreConfig config = persistent_config(key.value(), count);
        auto created = PageStore::create(config);
        REQUIRE(created.ok());
        write_all(**created, pages);
    } // the server is gone; its pages stay in memory, its page tables went with it

    auto attached = PageStore::attach(key.value(), serving);
    INFO((attached ? std::string() : attached.error().message));
    REQUIRE(attached.ok());
    auto& store = **attached;
    const auto mapping = store.takeover_mapping();
    const MmStat mm = store.mm_stat();
    INFO("mapped " << mapping.mapped_pages << " pages, " << mapping.unmapped_pages
                   << " not; mem_used_total " << mm.mem_used_total);
    CHECK(mapping.unmapped_pages == 0);
    // At least every page that holds an object (the slot table and the reserve come on top).
    CHECK(mapping.mapped_pages * kPageSize >= mm.mem_used_total);

    // Every page reads back, and the reads fault on none of the store's pages: the pages that
    // hold objects were all put in by the other process.
    Page page;
    page.fill(std::byte{1}); // touched before counting
    long faults = 0;
    std::uint64_t wrong = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        const long before = test::thread_minor_faults();
        const Status read = store.read_page(i, page);
        faults += test::thread_minor_faults() - before;
        REQUIRE(read.ok());
        if (std::memcmp(page.data(), pages.data() + i * kPageSize, kPageSize) != 0) ++wrong;
    }
    CHECK(wrong == 0);
    if (test::kShadowSanitizer) {
        WARN("SKIP: the page-fault count: " << test::kShadowSanitizer << "'s shadow memory faults in");
        return;
    }
    // Without the mapping each page holding objects faults once (hundreds here); a stray fault
    // (the host migrating a page) may remain.
    INFO("minor faults reading " << count << " pages back: " << faults);
    CHECK(faults <= 4);
}

TEST_CASE("a store keeps its dictionary, so pages decode even after the file changed",
          "[persistence]") {
    SharedMemoryKey key;
    std::vector<std::byte> pages(64 * kPageSize);
    for (std::uint64_t i = 0; i < 64; ++i) {
        const Page page = compressible_page(i);
        std::memcpy(pages.data() + i * kPageSize, page.data(), kPageSize);
    }
    {
        auto config = persistent_config(key.value(), 64, "zstd");
        config.params.dictionary =
            std::make_shared<const std::vector<std::byte>>(pages.begin(), pages.begin() + 8192);
        config.params.dict_path = "/nonexistent/dictionary";
        auto created = PageStore::create(config);
        REQUIRE(created.ok());
        write_all(**created, pages);
    }
    auto store = attach(key.value());
    require_identical(*store, pages);
    CHECK(store->params().dict_path == "/nonexistent/dictionary");
    REQUIRE(store->params().dictionary);
    CHECK(store->params().dictionary->size() == 8192);
}

TEST_CASE("an unknown layout version is refused and the segment left untouched", "[persistence]") {
    SharedMemoryKey key;
    {
        auto created = PageStore::create(persistent_config(key.value(), 256));
        REQUIRE(created.ok());
        write_all(**created, mixed_pages(256));
    }
    {
        auto raw = store::Arena::attach_shared(key.value());
        REQUIRE(raw.ok());
        header_of(*raw).layout_version = 99;
    }
    const std::uint64_t before = hash_of(key.value());
    auto refused = PageStore::attach(key.value(), StoreConfig{});
    REQUIRE(!refused.ok());
    CHECK(refused.error().code == EPROTO);
    CHECK(refused.error().message.find("layout version 99") != std::string::npos);
    CHECK(hash_of(key.value()) == before);
    {
        auto raw = store::Arena::attach_shared(key.value());
        REQUIRE(raw.ok());
        header_of(*raw).layout_version = store::kLayoutVersionWithoutWriteback;
    }
    auto store = attach(key.value()); // untouched: a binary that knows the layout takes it
    require_identical(*store, mixed_pages(256));
}

TEST_CASE("written-back pages are taken over with their backing device; the store is then layout 2",
          "[persistence][writeback]") {
    SharedMemoryKey key;
    const std::uint64_t count = 1024;
    const auto pages = mixed_pages(count);
    BackingFile file(2048);
    BdStat bd;
    {
        auto created = PageStore::create(persistent_config(key.value(), count));
        REQUIRE(created.ok());
        auto& store = **created;
        write_all(store, pages);
        {
            auto raw = store::Arena::attach_shared(key.value(), /*read_only=*/true);
            REQUIRE(raw.ok());
            CHECK(header_of(*raw).layout_version == 1); // older daemons can still take it over
        }
        REQUIRE(store.set_backing_device(file.path()).ok());
        store.set_writeback_limit(100000);
        store.set_writeback_limit_enable(true);
        REQUIRE(store.writeback(WritebackOptions{WritebackOptions::Type::any, 0, count / 2}).ok());
        store.discard(10, 5); // frees some places, so the taken-over store must know the free ones
        bd = store.bd_stat();
        REQUIRE(bd.count > 0);
        require_stats_exact(store);
    }
    {
        auto raw = store::Arena::attach_shared(key.value(), /*read_only=*/true);
        REQUIRE(raw.ok());
        CHECK(header_of(*raw).layout_version == store::kLayoutVersion);
        CHECK(header_of(*raw).header_bytes == sizeof(store::ArenaHeader));
    }
    auto store = attach(key.value());
    CHECK(store->damaged_pages() == 0);
    CHECK(store->backing_device() == file.path());
    CHECK(store->bd_stat().count == bd.count);
    CHECK(store->bd_stat().writes == bd.writes);
    CHECK(store->writeback_limit_enable());
    CHECK(store->writeback_limit() == 100000 - bd.writes);
    require_stats_exact(*store);
    for (std::uint64_t i = 0; i < count; ++i)
        require_page(*store, i,
                     i >= 10 && i < 15 ? std::span<const std::byte>(same_filled_page(0))
                                       : page_of(pages, i));
    // It writes back on, into the blocks that are free, without overwriting live ones.
    REQUIRE(store->writeback(WritebackOptions{WritebackOptions::Type::any}).ok());
    require_stats_exact(*store);
    for (std::uint64_t i = 0; i < count; ++i)
        require_page(*store, i,
                     i >= 10 && i < 15 ? std::span<const std::byte>(same_filled_page(0))
                                       : page_of(pages, i));
}

TEST_CASE("a taken-over store whose backing device is gone serves its other pages",
          "[persistence][writeback]") {
    SharedMemoryKey key;
    const std::uint64_t count = 256;
    const auto pages = mixed_pages(count);
    std::uint64_t backed = 0;
    {
        BackingFile file(512);
        auto created = PageStore::create(persistent_config(key.value(), count));
        REQUIRE(created.ok());
        write_all(**created, pages);
        REQUIRE((*created)->set_backing_device(file.path()).ok());
        REQUIRE((*created)->writeback(WritebackOptions{WritebackOptions::Type::any, 0, 99}).ok());
        backed = (*created)->bd_stat().count;
    } // the file is removed
    auto store = attach(key.value());
    CHECK(store->bd_stat().count == backed);
    std::uint64_t failed = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        Page out{};
        auto read = store->read_page(i, out);
        if (i < 100 && !read.ok()) {
            CHECK(read.error().code == EIO);
            ++failed;
        } else {
            REQUIRE(read.ok());
            CHECK(std::memcmp(out.data(), page_of(pages, i).data(), kPageSize) == 0);
        }
    }
    CHECK(failed == backed);
    // Written again, they are whole; once none is on the device, another can be set.
    for (std::uint64_t i = 0; i < 100; ++i)
        REQUIRE(store->write_page(i, page_of(pages, i).first<kPageSize>()).ok());
    CHECK(store->bd_stat().count == 0);
    BackingFile other(16);
    CHECK(store->set_backing_device(other.path()).ok());
    require_identical(*store, pages);
}

TEST_CASE("a damaged header or a foreign segment is refused and left untouched", "[persistence]") {
    SharedMemoryKey key;
    {
        auto created = PageStore::create(persistent_config(key.value(), 256));
        REQUIRE(created.ok());
    }
    {
        auto raw = store::Arena::attach_shared(key.value());
        REQUIRE(raw.ok());
        header_of(*raw).geometry.pages += 1; // the checksum no longer matches
    }
    std::uint64_t before = hash_of(key.value());
    auto refused = PageStore::attach(key.value(), StoreConfig{});
    REQUIRE(!refused.ok());
    CHECK(refused.error().code == EBADMSG);
    CHECK(hash_of(key.value()) == before);

    SharedMemoryKey foreign;
    {
        auto raw = store::Arena::create_shared(foreign.value(), 1 << 20);
        REQUIRE(raw.ok());
        std::memset(raw->data(), 0x5a, 4096);
    }
    before = hash_of(foreign.value());
    auto not_ours = PageStore::attach(foreign.value(), StoreConfig{});
    REQUIRE(!not_ours.ok());
    CHECK(not_ours.error().code == EINVAL);
    CHECK(hash_of(foreign.value()) == before);
    CHECK(PageStore::attach(SharedMemoryKey::unused(), StoreConfig{}).error().code == ENOENT);
}

TEST_CASE("a slot that points outside the store reads as an error; the others are served",
          "[persistence]") {
    SharedMemoryKey key;
    const auto pages = mixed_pages(300);
    {
        auto created = PageStore::create(persistent_config(key.value(), 300));
        REQUIRE(created.ok());
        write_all(**created, pages);
    }
    {
        auto raw = store::Arena::attach_shared(key.value());
        REQUIRE(raw.ok());
        auto& h = header_of(*raw);
        store::SlotTable slots(raw->data() + h.geometry.slots_offset, h.geometry.pages);
        REQUIRE((store::SlotTable::kind(slots[7]) & store::slot_flags::kObject) != 0);
        slots[7].value = (std::uint64_t{3} << 56) | (std::uint64_t{1} << 50); // far outside class 3
        REQUIRE((store::SlotTable::kind(slots[9]) & store::slot_flags::kObject) != 0);
        slots[8] = slots[9]; // two slots claim one object: the first in page order keeps it
    }
    auto store = attach(key.value());
    CHECK(store->damaged_pages() == 2);
    Page page;
    CHECK(store->read_page(7, page).error().code == EIO);
    require_page(*store, 8, page_of(pages, 9));
    CHECK(store->read_page(9, page).error().code == EIO);
    for (std::uint64_t i = 0; i < 300; ++i)
        if (i < 7 || i > 9)
            require_page(*store, i, page_of(pages, i));
    require_stats_exact(*store);
    REQUIRE(store->write_page(7, compressible_page(1)).ok()); // written again, it serves
    require_page(*store, 7, compressible_page(1));
}

} // namespace trueno::test

namespace trueno::test {

TEST_CASE("pages moved by a compaction of the backing device are taken over where they went",
          "[persistence][writeback][compaction]") {
    SharedMemoryKey key;
    const std::uint64_t count = 1024;
    const auto pages = mixed_pages(count);
    BackingFile file(2048);
    BdStat bd;
    {
        auto created = PageStore::create(persistent_config(key.value(), count));
        REQUIRE(created.ok());
        auto& store = **created;
        write_all(store, pages);
        REQUIRE(store.set_backing_device(file.path()).ok());
        REQUIRE(store.writeback(WritebackOptions{WritebackOptions::Type::any}).ok());
        for (std::uint64_t i = 0; i < count; ++i)
            if (i % 3 != 0)
                store.discard(i, 1);
        auto report = store.compact_backing();
        REQUIRE(report.ok());
        REQUIRE(report->objects > 0);
        bd = store.bd_stat();
        require_stats_exact(store);
    }
    auto store = attach(key.value());
    CHECK(store->damaged_pages() == 0);
    CHECK(store->bd_stat().count == bd.count);
    require_stats_exact(*store);
    for (std::uint64_t i = 0; i < count; ++i)
        require_page(*store, i,
                     i % 3 != 0 ? std::span<const std::byte>(same_filled_page(0))
                                : page_of(pages, i));
    // The blocks the compaction emptied are free to the taken-over store, the moved ones not.
    for (std::uint64_t i = 1; i < count; i += 3)
        REQUIRE(store->write_page(i, page_of(pages, i).first<kPageSize>()).ok());
    REQUIRE(store->writeback(WritebackOptions{WritebackOptions::Type::any}).ok());
    require_stats_exact(*store);
    for (std::uint64_t i = 0; i < count; ++i)
        require_page(*store, i,
                     i % 3 == 2 ? std::span<const std::byte>(same_filled_page(0))
                                : page_of(pages, i));
}

} // namespace trueno::test
