// Byte-range I/O at any offset and length against a plain model of the device, and the
// errors for requests outside it.
#include <catch2/catch.hpp>

#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "test_pages.hpp"
#include "trueno/page_store.hpp"
#include "trueno/thread_pool.hpp"

using namespace trueno;

namespace {

std::unique_ptr<PageStore> make_store(const char* algorithm, std::uint64_t disksize) {
    StoreConfig config;
    config.disksize = disksize;
    config.algorithm = algorithm;
    config.streams = 2;
    auto store = PageStore::create(config);
    REQUIRE(store.ok());
    return std::move(store.value());
}

} // namespace

TEST_CASE("partial reads and writes at odd offsets match a model of the device", "[store][io]") {
    const char* algorithm = GENERATE("lz4", "zstd");
    INFO(algorithm);
    constexpr std::uint64_t kPages = 24;
    auto store = make_store(algorithm, kPages * kPageSize);
    std::vector<std::byte> model(kPages * kPageSize);
    std::mt19937_64 rng(99);
    std::vector<std::byte> buffer(5 * kPageSize);
    for (int round = 0; round < 1500; ++round) {
        const std::uint64_t length = 1 + rng() % (rng() % 2 ? 600 : 3 * kPageSize + 700);
        const std::uint64_t offset = rng() % (model.size() - length + 1);
        if (rng() % 2) {
            // Text-like, zero or random bytes, so pages go through every kind.
            const auto kind = rng() % 3;
            const test::Page source = kind == 0   ? test::compressible_page(rng())
                                      : kind == 1 ? test::same_filled_page(0)
                                                  : test::incompressible_page(rng());
            for (std::uint64_t i = 0; i < length; ++i) buffer[i] = source[(i * 7 + round) % kPageSize];
            REQUIRE(store->write_bytes(offset, std::span(buffer).first(length)).ok());
            std::memcpy(model.data() + offset, buffer.data(), length);
        } else {
            REQUIRE(store->read_bytes(offset, std::span(buffer).first(length)).ok());
            INFO("read of " << length << " at " << offset);
            REQUIRE(std::memcmp(buffer.data(), model.data() + offset, length) == 0);
        }
    }
    std::vector<std::byte> all(model.size());
    REQUIRE(store->read_bytes(0, all).ok());
    REQUIRE(all == model);
    // Page-level reads agree with byte-level ones.
    test::Page page;
    REQUIRE(store->read_page(kPages - 1, page).ok());
    REQUIRE(std::memcmp(page.data(), model.data() + (kPages - 1) * kPageSize, kPageSize) == 0);
    CHECK(store->io_stat().invalid_io == 0);
    CHECK(store->io_stat().failed_writes == 0);
}

TEST_CASE("requests outside the device are EINVAL and count invalid_io", "[store][io]") {
    auto store = make_store("lz4", 8 * kPageSize);
    test::Page page{};
    std::vector<std::byte> bytes(2);
    std::uint64_t expected = 0;
    auto check_invalid = [&](const Status& status) {
        REQUIRE_FALSE(status.ok());
        CHECK(status.error().code == EINVAL);
        CHECK_FALSE(status.error().message.empty());
        CHECK(store->io_stat().invalid_io == ++expected);
    };
    check_invalid(store->write_page(8, page));
    check_invalid(store->read_page(8, page));
    check_invalid(store->read_page(std::numeric_limits<std::uint64_t>::max(), page));
    check_invalid(store->write_bytes(8 * kPageSize - 1, bytes));
    check_invalid(store->read_bytes(8 * kPageSize - 1, bytes));
    check_invalid(store->write_bytes(std::numeric_limits<std::uint64_t>::max(), bytes));
    check_invalid(store->read_bytes(std::numeric_limits<std::uint64_t>::max() - 1, bytes));
    store->discard(7, 2);
    CHECK(store->io_stat().invalid_io == ++expected);
    store->discard(std::numeric_limits<std::uint64_t>::max(), 2);
    CHECK(store->io_stat().invalid_io == ++expected);
    ThreadPool pool(2);
    std::vector<std::byte> pages(3 * kPageSize);
    check_invalid(store->write_pages(6, pages, pool));
    check_invalid(store->write_pages(0, std::span(pages).first(100), pool));
    // The last byte and empty requests at the end are fine.
    REQUIRE(store->write_bytes(8 * kPageSize - 2, bytes).ok());
    REQUIRE(store->read_bytes(8 * kPageSize, std::span<std::byte>()).ok());
    CHECK(store->io_stat().invalid_io == expected);
    CHECK(store->mm_stat().orig_data_size == kPageSize); // zeros written to page 7: same-filled
    CHECK(store->mm_stat().same_pages == 1);
}

TEST_CASE("write_pages compresses a batch on the pool", "[store][io]") {
    auto store = make_store("zstd", 300 * kPageSize);
    std::vector<std::byte> pages(256 * kPageSize);
    for (std::uint64_t i = 0; i < 256; ++i) {
        const test::Page page = test::versioned_page(i, i + 1);
        std::memcpy(pages.data() + i * kPageSize, page.data(), kPageSize);
    }
    ThreadPool pool(2);
    REQUIRE(store->write_pages(10, pages, pool).ok());
    std::vector<std::byte> back(pages.size());
    REQUIRE(store->read_bytes(10 * kPageSize, back).ok());
    REQUIRE(back == pages);
    CHECK(store->mm_stat().orig_data_size == 256 * kPageSize);

    // A batch that fails part way (memory limit) reports the error; pages before it are written.
    store->clear();
    store->set_mem_limit(8 * kPageSize);
    std::vector<std::byte> noise(64 * kPageSize);
    for (std::uint64_t i = 0; i < 64; ++i) {
        const test::Page page = test::incompressible_page(i);
        std::memcpy(noise.data() + i * kPageSize, page.data(), kPageSize);
    }
    auto status = store->write_pages(0, noise, pool);
    REQUIRE_FALSE(status.ok());
    CHECK(status.error().code == ENOMEM);
    // Workers may have finished pages after the failing one; every page is either written
    // or still empty, and exactly what fits (8 huge pages) was written.
    test::Page page;
    std::uint64_t written = 0;
    for (std::uint64_t i = 0; i < 64; ++i) {
        REQUIRE(store->read_page(i, page).ok());
        if (page == test::incompressible_page(i)) ++written;
        else REQUIRE(page == test::same_filled_page(0));
    }
    CHECK(written == 8);
    CHECK(store->mm_stat().huge_pages == 8);
}
