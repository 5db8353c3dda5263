// ublk request -> page store operations, fed synthetic descriptors (no kernel involved).
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <numeric>
#include <vector>

#include "recording_page_store.hpp"
#include "ublk/request_handler.hpp"
#include "ublk/ublk_uapi.hpp"

using trueno::kPageSize;
using trueno::test::RecordingPageStore;
using trueno::ublk::Attempt;
using trueno::ublk::attempt_request;
using trueno::ublk::handle_request;
using trueno::ublk::Request;

namespace {

Request make(std::uint8_t op, std::uint64_t offset, std::uint64_t length)
{
    REQUIRE(offset % 512 == 0);
    REQUIRE(length % 512 == 0);
    Request r;
    r.op = op;
    r.start_sector = offset / 512;
    r.nr_sectors = static_cast<std::uint32_t>(length / 512);
    return r;
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed)
{
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::byte>((i * 131 + seed * 7 + i / 4096) & 0xff);
    return v;
}

bool all_zero(std::span<const std::byte> s)
{
    return std::all_of(s.begin(), s.end(), [](std::byte b) { return b == std::byte{0}; });
}

} // namespace

TEST_CASE("WRITE then READ round-trips any sector-aligned length and offset")
{
    RecordingPageStore store(64);
    std::vector<std::byte> buffer(128 * 1024 + 4096);
    struct Case { std::uint64_t offset, length; };
    const Case cases[] = {{0, 4096}, {4096, 8 * 4096}, {512, 512}, {3584, 1024}, {7 * 4096 + 1536, 5 * 4096 + 512},
                          {60 * 4096, 4 * 4096}, {0, 128 * 1024}};
    unsigned seed = 1;
    for (const auto& c : cases) {
        CAPTURE(c.offset, c.length);
        const auto data = pattern(c.length, seed++);
        std::copy(data.begin(), data.end(), buffer.begin());
        REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, c.offset, c.length), buffer, store) ==
                static_cast<int>(c.length));
        std::fill(buffer.begin(), buffer.end(), std::byte{0xee});
        REQUIRE(handle_request(make(UBLK_IO_OP_READ, c.offset, c.length), buffer, store) ==
                static_cast<int>(c.length));
        REQUIRE(std::equal(data.begin(), data.end(), buffer.begin()));
        REQUIRE(buffer[c.length] == std::byte{0xee}); // nothing read past the request
    }
}

TEST_CASE("a partial-page WRITE leaves the rest of the page intact")
{
    RecordingPageStore store(2);
    std::vector<std::byte> buffer(8192);
    const auto full = pattern(8192, 3);
    std::copy(full.begin(), full.end(), buffer.begin());
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, 8192), buffer, store) == 8192);
    std::fill(buffer.begin(), buffer.end(), std::byte{0x5a});
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 1024, 1024), buffer, store) == 1024);
    const auto raw = store.raw();
    REQUIRE(std::equal(full.begin(), full.begin() + 1024, raw.begin()));
    REQUIRE(std::all_of(raw.begin() + 1024, raw.begin() + 2048, [](std::byte b) { return b == std::byte{0x5a}; }));
    REQUIRE(std::equal(full.begin() + 2048, full.end(), raw.begin() + 2048));
}

TEST_CASE("requests outside the device or larger than the buffer fail with -EINVAL")
{
    RecordingPageStore store(4);
    std::vector<std::byte> buffer(8192);
    REQUIRE(handle_request(make(UBLK_IO_OP_READ, 3 * 4096, 8192), buffer, store) == -EINVAL);
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 4 * 4096, 512), buffer, store) == -EINVAL);
    REQUIRE(handle_request(make(UBLK_IO_OP_DISCARD, 2 * 4096, 3 * 4096), buffer, store) == -EINVAL);
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, 16384), buffer, store) == -EINVAL);
    Request huge;
    huge.op = UBLK_IO_OP_READ;
    huge.start_sector = ~0ULL / 512;
    huge.nr_sectors = 8;
    REQUIRE(handle_request(huge, buffer, store) == -EINVAL); // offset arithmetic overflows
    REQUIRE(store.byte_writes.empty());
    REQUIRE(store.discards.empty());
}

TEST_CASE("DISCARD and WRITE_ZEROES free whole pages and zero partial edges")
{
    for (std::uint8_t op : {std::uint8_t{UBLK_IO_OP_DISCARD}, std::uint8_t{UBLK_IO_OP_WRITE_ZEROES}}) {
        CAPTURE(int(op));
        RecordingPageStore store(16);
        const auto full = pattern(16 * 4096, 9);
        std::copy(full.begin(), full.end(), store.raw().begin());
        std::vector<std::byte> buffer(4096);

        SECTION("page-aligned range: one discard, no writes")
        {
            REQUIRE(handle_request(make(op, 2 * 4096, 5 * 4096), buffer, store) == 0);
            REQUIRE(store.discards == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{2, 5}});
            REQUIRE(store.byte_writes.empty());
            REQUIRE(all_zero(store.raw().subspan(2 * 4096, 5 * 4096)));
            REQUIRE(std::equal(full.begin(), full.begin() + 2 * 4096, store.raw().begin()));
            REQUIRE(std::equal(full.begin() + 7 * 4096, full.end(), store.raw().begin() + 7 * 4096));
        }
        SECTION("unaligned range: edges zeroed by writes, middle discarded")
        {
            const std::uint64_t offset = 4096 + 1024, length = 3 * 4096; // ends at 4*4096+1024
            REQUIRE(handle_request(make(op, offset, length), buffer, store) == 0);
            REQUIRE(store.discards == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{2, 2}});
            REQUIRE(store.byte_writes.size() == 2);
            REQUIRE(store.byte_writes[0] == std::pair<std::uint64_t, std::uint64_t>{offset, 3072});
            REQUIRE(store.byte_writes[1] == std::pair<std::uint64_t, std::uint64_t>{4 * 4096, 1024});
            REQUIRE(all_zero(store.raw().subspan(offset, length)));
            REQUIRE(std::equal(full.begin(), full.begin() + offset, store.raw().begin()));
            REQUIRE(std::equal(full.begin() + offset + length, full.end(), store.raw().begin() + offset + length));
        }
        SECTION("inside one page and straddling two: only writes")
        {
            REQUIRE(handle_request(make(op, 512, 1024), buffer, store) == 0);
            REQUIRE(handle_request(make(op, 5 * 4096 - 1024, 2048), buffer, store) == 0);
            REQUIRE(store.discards.empty());
            REQUIRE(store.byte_writes.size() == 3);
            REQUIRE(all_zero(store.raw().subspan(512, 1024)));
            REQUIRE(all_zero(store.raw().subspan(5 * 4096 - 1024, 2048)));
            REQUIRE(store.raw()[511] == full[511]);
            REQUIRE(store.raw()[1536] == full[1536]);
        }
    }
}

TEST_CASE("FLUSH succeeds and touches nothing; unknown ops are -EOPNOTSUPP")
{
    RecordingPageStore store(4);
    std::vector<std::byte> buffer(4096);
    REQUIRE(handle_request(make(UBLK_IO_OP_FLUSH, 0, 0), buffer, store) == 0);
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE_SAME, 0, 4096), buffer, store) == -EOPNOTSUPP);
    REQUIRE(handle_request(make(99, 0, 4096), buffer, store) == -EOPNOTSUPP);
    REQUIRE(store.byte_writes.empty());
    REQUIRE(store.discards.empty());
}

// A store at its memory limit: no room for one more page.
static void at_memory_limit(RecordingPageStore& store)
{
    store.stat.mem_limit = 64 * kPageSize;
    store.stat.mem_used_total = 64 * kPageSize - 100;
}

TEST_CASE("store errors become that request's negative errno")
{
    RecordingPageStore store(4);
    std::vector<std::byte> buffer(4096);
    // ENOMEM at the memory limit: a write error at once (one attempt, no wait for the reserve).
    at_memory_limit(store);
    store.fail_writes_with = ENOMEM;
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, 4096), buffer, store) == -ENOSPC);
    CHECK(store.write_attempts == 1);
    REQUIRE(handle_request(make(UBLK_IO_OP_DISCARD, 512, 1024), buffer, store) == -ENOSPC);
    CHECK(store.write_attempts == 2);
    store.fail_writes_with = EIO; // any other error is never retried, whatever the memory
    store.stat = {};
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, 4096), buffer, store) == -EIO);
    CHECK(store.write_attempts == 3);
    store.fail_writes_with.reset();
    store.fail_reads_with = EIO; // corrupted stored data must never read back as success
    REQUIRE(handle_request(make(UBLK_IO_OP_READ, 0, 4096), buffer, store) == -EIO);
    store.fail_reads_with = 0; // a store bug reporting errno 0 still fails the request
    REQUIRE(handle_request(make(UBLK_IO_OP_READ, 0, 4096), buffer, store) == -EIO);
    store.fail_reads_with.reset();
    REQUIRE(handle_request(make(UBLK_IO_OP_READ, 0, 4096), buffer, store) == 4096); // still serving
}

// ENOMEM below the memory limit means the store's populated reserve ran dry (its refill thread
// has not caught up); handle_request waits for it in place, up to its reserve wait in all.
TEST_CASE("a write that finds the reserve empty retries only that page, and succeeds")
{
    RecordingPageStore store(4);
    std::vector<std::byte> buffer = pattern(2 * kPageSize, 5);
    store.fail_writes_with = ENOMEM;
    store.failing_writes = 3; // the first page's first three attempts; then the reserve is back
    REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, 2 * kPageSize), buffer, store) ==
            static_cast<int>(2 * kPageSize));
    CHECK(store.write_attempts == 2 + 3);
    // Each page stored once: the retries repeated the first page only.
    CHECK(store.byte_writes == std::vector<std::pair<std::uint64_t, std::uint64_t>>{
                                   {0, kPageSize}, {kPageSize, kPageSize}});
    CHECK(std::equal(buffer.begin(), buffer.end(), store.raw().begin()));
}

TEST_CASE("at the memory limit a write fails at once; below it the reserve wait is bounded")
{
    RecordingPageStore store(4);
    std::vector<std::byte> buffer = pattern(kPageSize, 6);
    store.fail_writes_with = ENOMEM;
    SECTION("at the limit: one attempt, -ENOSPC")
    {
        at_memory_limit(store);
        REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, kPageSize), buffer, store) == -ENOSPC);
        CHECK(store.write_attempts == 1); // no retry, so no wait
    }
    SECTION("no limit, the reserve never comes back: -ENOSPC after the default budget")
    {
        const auto start = std::chrono::steady_clock::now();
        REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, kPageSize), buffer, store) == -ENOSPC);
        const auto waited = std::chrono::steady_clock::now() - start;
        CHECK(store.write_attempts > 1);
        CHECK(waited >= trueno::ublk::kDefaultReserveWait);
        CHECK(waited < std::chrono::seconds(30)); // bounded, even on a loaded machine
    }
    SECTION("the budget is the caller's (trueno-zramd --reserve-wait)")
    {
        auto start = std::chrono::steady_clock::now();
        REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, kPageSize), buffer, store,
                               std::chrono::milliseconds(700)) == -ENOSPC);
        CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(700));
        const auto attempts = store.write_attempts;
        start = std::chrono::steady_clock::now();
        REQUIRE(handle_request(make(UBLK_IO_OP_WRITE, 0, kPageSize), buffer, store,
                               std::chrono::milliseconds(0)) == -ENOSPC);
        CHECK(store.write_attempts == attempts + 1); // no wait: one attempt
    }
    CHECK(store.byte_writes.empty());
}

// attempt_request: what a queue parks and resumes (parked_writes.hpp).
TEST_CASE("a write that finds no memory stops at that page; resumed, it stores only the rest") {
    RecordingPageStore store(4);
    std::vector<std::byte> buffer = pattern(3 * kPageSize, 8);
    store.fail_writes_with = ENOMEM;
    store.passing_writes = 1; // the first page finds memory, the second twice not
    store.failing_writes = 2;
    const auto write = make(UBLK_IO_OP_WRITE, 0, 3 * kPageSize);
    Attempt first = attempt_request(write, buffer, store);
    REQUIRE(first.needs_memory);
    CHECK(first.bytes_done == kPageSize);
    Attempt second = attempt_request(write, buffer, store, first.bytes_done);
    REQUIRE(second.needs_memory);
    CHECK(second.bytes_done == kPageSize);
    Attempt third = attempt_request(write, buffer, store, second.bytes_done);
    REQUIRE_FALSE(third.needs_memory);
    CHECK(third.result == static_cast<int>(3 * kPageSize));
    CHECK(store.write_attempts == 1 + 1 + 3);
    // Each page stored once, in order.
    CHECK(store.byte_writes ==
          std::vector<std::pair<std::uint64_t, std::uint64_t>>{
              {0, kPageSize}, {kPageSize, kPageSize}, {2 * kPageSize, kPageSize}});
    CHECK(std::equal(buffer.begin(), buffer.end(), store.raw().begin()));
}

// Room on demand: while the writeback policy makes room (the store's limit_waits), a write
// refused at the limit is parked as one that found the reserve dry, and resumes where it was.
TEST_CASE(
    "at the memory limit, a write waits while the store makes room, and fails at once when not") {
    RecordingPageStore store(4);
    std::vector<std::byte> buffer = pattern(2 * kPageSize, 11);
    store.fail_writes_with = ENOMEM;
    store.passing_writes = 1;
    store.failing_writes = 1;
    at_memory_limit(store);
    store.set_limit_waits(true);
    const auto write = make(UBLK_IO_OP_WRITE, 0, 2 * kPageSize);
    const Attempt first = attempt_request(write, buffer, store);
    REQUIRE(first.needs_memory);
    CHECK(first.bytes_done == kPageSize);
    const Attempt rest = attempt_request(write, buffer, store, first.bytes_done);
    REQUIRE_FALSE(rest.needs_memory);
    CHECK(rest.result == static_cast<int>(2 * kPageSize));
    CHECK(std::equal(buffer.begin(), buffer.end(), store.raw().begin()));
    // Disarmed (no backing device, the day's budget spent): the limit fails the write again.
    store.set_limit_waits(false);
    store.failing_writes = 1;
    const Attempt refused = attempt_request(write, buffer, store);
    CHECK_FALSE(refused.needs_memory);
    CHECK(refused.result == -ENOSPC);
}

TEST_CASE("an unaligned write resumes inside its span, at the page that found no memory") {
    RecordingPageStore store(4);
    std::vector<std::byte> buffer = pattern(2 * kPageSize, 9);
    store.fail_writes_with = ENOMEM;
    store.passing_writes = 1; // the head [1024, 4096) is stored, the next page is not
    store.failing_writes = 1;
    const auto write = make(UBLK_IO_OP_WRITE, 1024, 2 * kPageSize);
    const Attempt first = attempt_request(write, buffer, store);
    REQUIRE(first.needs_memory);
    CHECK(first.bytes_done == kPageSize - 1024);
    const Attempt rest = attempt_request(write, buffer, store, first.bytes_done);
    REQUIRE_FALSE(rest.needs_memory);
    CHECK(rest.result == static_cast<int>(2 * kPageSize));
    CHECK(store.byte_writes ==
          std::vector<std::pair<std::uint64_t, std::uint64_t>>{
              {1024, kPageSize - 1024}, {kPageSize, kPageSize}, {2 * kPageSize, 1024}});
    CHECK(std::equal(buffer.begin(), buffer.end(), store.raw().begin() + 1024));
}

TEST_CASE(
    "attempt_request never waits: at the memory limit, other errors and other ops end at once") {
    RecordingPageStore store(4);
    std::vector<std::byte> buffer = pattern(kPageSize, 10);
    store.fail_writes_with = ENOMEM;
    const auto write = make(UBLK_IO_OP_WRITE, 0, kPageSize);
    const auto start = std::chrono::steady_clock::now();
    const Attempt dry = attempt_request(write, buffer, store); // no limit: the reserve is dry
    CHECK(dry.needs_memory);
    CHECK(dry.bytes_done == 0);
    CHECK(store.write_attempts == 1);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1)); // no wait in it
    at_memory_limit(store);
    const Attempt full = attempt_request(write, buffer, store);
    CHECK_FALSE(full.needs_memory); // a full device does not get better by waiting
    CHECK(full.result == -ENOSPC);
    store.stat = {};
    store.fail_writes_with = EIO;
    const Attempt broken = attempt_request(write, buffer, store);
    CHECK_FALSE(broken.needs_memory);
    CHECK(broken.result == -EIO);
    store.fail_writes_with.reset();
    CHECK(attempt_request(write, buffer, store, kPageSize + 512).result ==
          -EINVAL); // resume past the end
    CHECK(attempt_request(make(UBLK_IO_OP_READ, 0, kPageSize), buffer, store).result ==
          static_cast<int>(kPageSize));
    CHECK(attempt_request(make(UBLK_IO_OP_FLUSH, 0, 0), buffer, store).result == 0);
}

TEST_CASE("user-copy offsets follow the kernel's layout")
{
    REQUIRE(trueno::ublk::user_copy_offset(0, 0) == 0x80000000ULL);
    REQUIRE(trueno::ublk::user_copy_offset(1, 2, 512) == 0x80000000ULL + (1ULL << 41) + (2ULL << 25) + 512);
}

TEST_CASE("every request run twice leaves the store as run once (the kernel reissues requests)")
{
    // What a server killed after applying a request (in part or in full) but before answering
    // it leaves: the next server runs the same request again.
    const auto image = [](RecordingPageStore& s) {
        std::vector<std::byte> all(64 * kPageSize);
        REQUIRE(s.read_bytes(0, all).ok());
        return all;
    };
    struct Step {
        std::uint8_t op;
        std::uint64_t offset, length;
    };
    const Step steps[] = {{UBLK_IO_OP_WRITE, 0, 16 * 4096},       {UBLK_IO_OP_WRITE, 3584, 1024},
                          {UBLK_IO_OP_DISCARD, 4096, 3 * 4096},    {UBLK_IO_OP_WRITE_ZEROES, 7 * 4096 + 512, 4096},
                          {UBLK_IO_OP_WRITE, 10 * 4096 + 512, 2048}, {UBLK_IO_OP_DISCARD, 512, 1024}};
    RecordingPageStore once(64);
    RecordingPageStore twice(64);
    std::vector<std::byte> buffer(128 * 1024);
    unsigned seed = 3;
    for (const auto& step : steps) {
        CAPTURE(step.op, step.offset, step.length);
        const auto data = pattern(step.length, seed++);
        for (auto* store : {&once, &twice}) {
            const int runs = store == &once ? 1 : 2;
            for (int run = 0; run < runs; ++run) {
                std::copy(data.begin(), data.end(), buffer.begin());
                REQUIRE(handle_request(make(step.op, step.offset, step.length), buffer, *store) >= 0);
            }
        }
        REQUIRE(image(once) == image(twice));
    }
}
