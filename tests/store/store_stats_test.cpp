// mm_stat and io_stat after known writes, overwrites, discards, compaction and clear, with the
// kernel's meaning for every field.
#include <catch2/catch.hpp>

#include "compressed_page_store.hpp"
#include "test_pages.hpp"
#include "trueno/codec.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;
using test::Page;

namespace {

std::unique_ptr<PageStore> make_store(std::uint64_t disksize, std::uint64_t mem_limit = 0) {
    StoreConfig config;
    config.disksize = disksize;
    config.algorithm = "lz4";
    config.mem_limit = mem_limit;
    config.streams = 2;
    auto store = PageStore::create(config);
    REQUIRE(store.ok());
    return std::move(store.value());
}

std::size_t lz4_size(const Page& page) {
    auto codec = make_codec("lz4");
    REQUIRE(codec.ok());
    Page out;
    return (*codec)->compress(page, out);
}

Page read(PageStore& store, std::uint64_t index) {
    Page page;
    REQUIRE(store.read_page(index, page).ok());
    return page;
}

} // namespace

TEST_CASE("create validates the configuration", "[store]") {
    StoreConfig config;
    config.algorithm = "lz4";
    REQUIRE(PageStore::create(config).error().code == EINVAL); // disksize 0
    config.disksize = 5000;
    auto store = PageStore::create(config);
    REQUIRE(store.ok());
    REQUIRE((*store)->page_count() == 2);
    REQUIRE((*store)->disksize() == 8192);
    REQUIRE((*store)->algorithm() == "lz4");
    REQUIRE((*store)->streams() >= 1);
    config.algorithm = "no-such-codec";
    REQUIRE(PageStore::create(config).error().code == EINVAL);
    config.algorithm = "zstd";
    config.params.level = 1000;
    REQUIRE(PageStore::create(config).error().code == EINVAL);
}

TEST_CASE("statistics follow writes, overwrites, discards, compaction and clear", "[store]") {
    auto store = make_store(64 * kPageSize);
    const Page zero = test::same_filled_page(0);
    const Page filled = test::same_filled_page(0xabababababababab);
    const Page text = test::compressible_page(7);
    const Page noise = test::incompressible_page(7);
    const std::size_t text_size = lz4_size(text);
    REQUIRE(text_size > 0);
    REQUIRE(text_size < 3632);

    // Unwritten pages read as zeros and use nothing.
    REQUIRE(read(*store, 5) == zero);
    REQUIRE(store->mm_stat().mem_used_total == 0);

    REQUIRE(store->write_page(0, zero).ok());
    REQUIRE(store->write_page(1, filled).ok());
    REQUIRE(store->write_page(2, text).ok());
    REQUIRE(store->write_page(3, noise).ok());
    MmStat s = store->mm_stat();
    CHECK(s.orig_data_size == 4 * kPageSize); // same-filled pages count as stored
    CHECK(s.compr_data_size == text_size + kPageSize);
    CHECK(s.same_pages == 2);
    CHECK(s.huge_pages == 1);
    CHECK(s.huge_pages_since == 1);
    CHECK(s.mem_used_total == 2 * kPageSize); // one page per class in use
    CHECK(s.mem_used_max == 2 * kPageSize);
    CHECK(s.mem_limit == 0);
    CHECK(s.pages_compacted == 0);
    REQUIRE(read(*store, 0) == zero);
    REQUIRE(read(*store, 1) == filled);
    REQUIRE(read(*store, 2) == text);
    REQUIRE(read(*store, 3) == noise);

    // Overwrite the huge page with a same-filled one: huge_pages drops, the "since" count stays.
    REQUIRE(store->write_page(3, filled).ok());
    s = store->mm_stat();
    CHECK(s.orig_data_size == 4 * kPageSize);
    CHECK(s.compr_data_size == text_size);
    CHECK(s.same_pages == 3);
    CHECK(s.huge_pages == 0);
    CHECK(s.huge_pages_since == 1);
    REQUIRE(read(*store, 3) == filled);

    // Overwrite compressible with compressible of another size: compr follows exactly.
    const Page text2 = test::compressible_page(8);
    REQUIRE(store->write_page(2, text2).ok());
    CHECK(store->mm_stat().compr_data_size == lz4_size(text2));
    REQUIRE(read(*store, 2) == text2);

    // Discard frees every page of the range; notify_free counts each one, as the kernel's
    // zram_bio_discard does, whether it held data or not.
    store->discard(0, 10);
    s = store->mm_stat();
    CHECK(s.orig_data_size == 0);
    CHECK(s.compr_data_size == 0);
    CHECK(s.same_pages == 0);
    CHECK(store->io_stat().notify_free == 10);
    REQUIRE(read(*store, 2) == zero);

    // Emptied pages are counted until they are given back; compaction gives them back.
    const auto held = store->mm_stat().mem_used_total;
    const auto released = store->compact();
    s = store->mm_stat();
    CHECK(s.mem_used_total == 0);
    CHECK(released * kPageSize == held);
    CHECK(s.pages_compacted == released);
    // The peak: text2 went to another class (a third page) while the emptied pages of text
    // and noise were still held.
    CHECK(s.mem_used_max == 3 * kPageSize);
    store->reset_mem_used_max();
    CHECK(store->mm_stat().mem_used_max == 0);

    // clear() forgets everything, counters included.
    REQUIRE(store->write_page(9, noise).ok());
    REQUIRE(store->write_page(10, zero).ok());
    store->clear();
    s = store->mm_stat();
    CHECK(s.orig_data_size == 0);
    CHECK(s.mem_used_total == 0);
    CHECK(s.same_pages == 0);
    CHECK(s.huge_pages_since == 0);
    CHECK(s.mem_used_max == 0);
    CHECK(store->io_stat().notify_free == 0);
    REQUIRE(read(*store, 9) == zero);
}

TEST_CASE("many pages of one kind share pages of memory", "[store]") {
    auto store = make_store(256 * kPageSize);
    std::uint64_t compr = 0;
    for (std::uint64_t i = 0; i < 200; ++i) {
        const Page page = test::compressible_page(i);
        compr += lz4_size(page);
        REQUIRE(store->write_page(i, page).ok());
    }
    const MmStat s = store->mm_stat();
    CHECK(s.compr_data_size == compr);
    CHECK(s.orig_data_size == 200 * kPageSize);
    // Rounding to 16-byte classes plus at most one partly used page (and one straddled page)
    // per class in use.
    CHECK(s.mem_used_total >= compr);
    CHECK(s.mem_used_total <= compr + 200 * 16 + 2 * 64 * kPageSize);
    for (std::uint64_t i = 0; i < 200; ++i) REQUIRE(read(*store, i) == test::compressible_page(i));
}

TEST_CASE("a write past the memory limit fails with ENOMEM and changes nothing", "[store]") {
    auto store = make_store(64 * kPageSize, 4 * kPageSize);
    CHECK(store->mm_stat().mem_limit == 4 * kPageSize);
    for (std::uint64_t i = 0; i < 4; ++i)
        REQUIRE(store->write_page(i, test::incompressible_page(i)).ok());
    const MmStat before = store->mm_stat();
    REQUIRE(before.mem_used_total == 4 * kPageSize);

    auto refused = store->write_page(4, test::incompressible_page(4));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ENOMEM);
    // An overwrite that needs new memory fails too and keeps the old contents.
    refused = store->write_page(0, test::incompressible_page(100));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == ENOMEM);
    const Page bytes = test::compressible_page(1);
    refused = store->write_bytes(1 * kPageSize + 100, std::span(bytes).first(10));
    CHECK(refused.error().code == ENOMEM);

    const MmStat after = store->mm_stat();
    CHECK(format_mm_stat(after) == format_mm_stat(before));
    CHECK(store->io_stat().failed_writes == 3);
    for (std::uint64_t i = 0; i < 4; ++i) REQUIRE(read(*store, i) == test::incompressible_page(i));
    REQUIRE(read(*store, 4) == test::same_filled_page(0));

    // Same-filled pages need no memory and are always accepted.
    REQUIRE(store->write_page(5, test::same_filled_page(42)).ok());
    // Raising the limit at run time lets writes through again.
    store->set_mem_limit(0);
    REQUIRE(store->write_page(4, test::incompressible_page(4)).ok());
    CHECK(store->mm_stat().mem_used_total == 5 * kPageSize);
    // A limit below what is used blocks growth but keeps the data.
    store->set_mem_limit(kPageSize + 1);
    CHECK(store->mm_stat().mem_limit == 2 * kPageSize); // rounded up to a page like the kernel
    REQUIRE(store->write_page(6, test::incompressible_page(6)).error().code == ENOMEM);
    REQUIRE(read(*store, 4) == test::incompressible_page(4));
}

TEST_CASE("idle marking follows the kernel's idle attribute", "[store]") {
    auto store = make_store(16 * kPageSize);
    REQUIRE(store->write_page(0, test::compressible_page(1)).ok());
    REQUIRE(store->write_page(1, test::same_filled_page(3)).ok());
    REQUIRE(store->mark_idle(3600) == 0); // nothing is an hour old
    REQUIRE(store->mark_idle(0) == 2);    // "all": every written page, same-filled included
    auto& impl = dynamic_cast<store::CompressedPageStore&>(*store);
    CHECK(impl.is_idle(0));
    CHECK(impl.is_idle(1));
    CHECK_FALSE(impl.is_idle(2));
    read(*store, 0); // access clears idle
    CHECK_FALSE(impl.is_idle(0));
    REQUIRE(store->write_page(1, test::same_filled_page(4)).ok());
    CHECK_FALSE(impl.is_idle(1));
}

TEST_CASE("stored data that no longer decompresses is an EIO, never returned", "[store]") {
    auto store = make_store(16 * kPageSize);
    REQUIRE(store->write_page(3, test::compressible_page(3)).ok());
    auto& impl = dynamic_cast<store::CompressedPageStore&>(*store);
    auto stored = impl.stored_object(3);
    REQUIRE(stored.size() > 16);
    for (std::size_t i = 0; i < stored.size(); i += 3) stored[i] = std::byte(0xff);
    Page out;
    auto status = store->read_page(3, out);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().code == EIO);
    CHECK(store->io_stat().failed_reads == 1);
    // A partial write to the damaged page cannot read-modify-write it: failed write, EIO.
    std::array<std::byte, 10> bytes{};
    auto partial = store->write_bytes(3 * kPageSize + 5, bytes);
    CHECK(partial.error().code == EIO);
    CHECK(store->io_stat().failed_writes == 1);
    // A whole-page write replaces it.
    REQUIRE(store->write_page(3, test::compressible_page(4)).ok());
    REQUIRE(read(*store, 3) == test::compressible_page(4));
}
