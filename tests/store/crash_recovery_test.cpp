// A process that works on a store in shared memory is killed (SIGKILL) at random moments
// while one thread writes and discards pages and another recompresses them into multi-page and
// deduplicated objects, trains dictionaries, marks pages idle and compacts, with the refill
// thread keeping the reserve populated. After every kill a new store is attached and every page
// must read back as what was last written to it, or as what was being written to it when the
// process died; the statistics must add up, and the store must work on.
#include "compressed_page_store.hpp"
#include "shared_memory_key.hpp"
#include "store_checks.hpp"
#include "store_fixtures.hpp"
#include "test_pages.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <random>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace trueno::test {
namespace {

constexpr std::uint64_t kPages = 4096;
constexpr std::uint32_t kDiscarding = 0xffffffffu;

// What the killed process was doing, in memory it shares with the test: for each page the
// version last written (0: never, or discarded) and the one being written when it died.
struct PageModel {
    std::atomic<std::uint32_t> committed;
    std::atomic<std::uint32_t> pending;
};
struct SharedModel {
    std::atomic<std::uint32_t> ready;
    std::atomic<std::uint32_t> next_version;
    std::atomic<std::uint64_t> operations;
    std::atomic<std::uint64_t> passes; // recompression passes the killed processes completed
    PageModel pages[kPages];
};

// Many pages share contents (dedup has work) and runs compress together (groups do).
Page content(std::uint32_t version) {
    if (version == 0 || version == kDiscarding)
        return same_filled_page(0);
    switch (version % 8) {
    case 0:
        return same_filled_page(version);
    case 1:
        return incompressible_page(version);
    default:
        return compressible_page(version % 97);
    }
}

StoreConfig child_config(std::int32_t key) {
    StoreConfig config;
    config.disksize = kPages * kPageSize;
    config.algorithm = "lz4";
    config.streams = 2;
    config.shared_memory_key = key;
    config.never_fault_on_io = true; // the refill thread runs too
    config.reserve_pages_per_class = 2;
    return config;
}

// The process that gets killed. Exits on its own only when something is wrong.
[[noreturn]] void work_until_killed(std::int32_t key, SharedModel& model, std::uint64_t seed,
                                    bool create) {
    auto made =
        create ? PageStore::create(child_config(key)) : PageStore::attach(key, child_config(key));
    if (!made) {
        std::fprintf(stderr, "child: %s\n", made.error().message.c_str());
        ::_exit(3);
    }
    std::shared_ptr<PageStore> store = std::move(made.value());
    model.ready.store(1);
    std::jthread background([store, seed, &model](std::stop_token stop) {
        std::mt19937_64 rng(seed ^ 0x5bd1e995);
        if (store->recomp_algorithms().empty())
            (void)store->set_recomp_algorithm(1, "zstd", level(3));
        while (!stop.stop_requested()) {
            RecompressOptions options;
            options.type = RecompressOptions::Type::all;
            options.group_pages = 1 + rng() % 8;
            options.dedup = rng() % 2 == 0;
            options.priority = 1;
            (void)store->recompress(options);
            model.passes.fetch_add(1);
            store->compact();
            store->mark_idle(0);
            if (rng() % 16 == 0 && store->recomp_algorithms().size() == 1)
                (void)store->train_recomp_dictionary(1, 4096, 64);
        }
    });
    std::mt19937_64 rng(seed);
    for (;;) {
        const std::uint64_t page = rng() % kPages;
        const unsigned what = rng() % 100;
        if (what < 75) {
            const std::uint32_t version = model.next_version.fetch_add(1) + 1;
            model.pages[page].pending.store(version);
            if (store->write_page(page, content(version)).ok())
                model.pages[page].committed.store(version);
            model.pages[page].pending.store(0);
        } else if (what < 92) {
            const std::uint64_t count = std::min<std::uint64_t>(1 + rng() % 8, kPages - page);
            for (std::uint64_t p = page; p < page + count; ++p)
                model.pages[p].pending.store(kDiscarding);
            store->discard(page, count);
            for (std::uint64_t p = page; p < page + count; ++p) {
                model.pages[p].committed.store(0);
                model.pages[p].pending.store(0);
            }
        } else {
            Page read;
            const Page expected = content(model.pages[page].committed.load());
            auto st = store->read_page(page, read);
            if (!st.ok() || read != expected) {
                const std::uint32_t committed = model.pages[page].committed.load();
                long match = -1;
                for (std::uint32_t v = 0; v <= model.next_version.load() && match < 0; ++v)
                    if (st.ok() && read == content(v)) match = v;
                std::size_t first_diff = 0;
                while (first_diff < kPageSize && read[first_diff] == expected[first_diff]) ++first_diff;
                std::size_t last_diff = kPageSize;
                while (last_diff > 0 && read[last_diff - 1] == expected[last_diff - 1]) --last_diff;
                auto& cps = dynamic_cast<store::CompressedPageStore&>(*store);
                std::fprintf(stderr,
                             "child: page %llu does not read back (%s): version %u expected, the bytes are "
                             "version %ld's (-1: none), differing in [%zu, %zu); %zu bytes stored, codec %u, "
                             "borrowed %d, shared %d\n",
                             static_cast<unsigned long long>(page), st.ok() ? "read ok" : st.error().message.c_str(),
                             committed, match, first_diff, last_diff, cps.stored_object(page).size(),
                             cps.codec_id(page), int(cps.borrowed(page)), int(cps.shared_page(page).has_value()));
                ::_exit(5);
            }
        }
        model.operations.fetch_add(1);
    }
}

// Every page reads back as committed, or as what was pending when the process died; the model
// then says which (a discard or a write the kill interrupted may have landed or not), so the
// next process checks its reads against what the store really holds.
void verify_every_page(PageStore& store, SharedModel& model) {
    for (std::uint64_t page = 0; page < kPages; ++page) {
        const std::uint32_t committed = model.pages[page].committed.load();
        const std::uint32_t pending = model.pages[page].pending.load();
        Page read;
        auto status = store.read_page(page, read);
        INFO("page " << page << " committed " << committed << " pending " << pending
                     << (status.ok() ? "" : " read: " + status.error().message));
        REQUIRE(status.ok());
        const bool as_committed = read == content(committed);
        const bool as_pending = pending != 0 && read == content(pending);
        REQUIRE((as_committed || as_pending));
        if (!as_committed) model.pages[page].committed.store(pending == kDiscarding ? 0 : pending);
        model.pages[page].pending.store(0);
    }
}

} // namespace

TEST_CASE("a store survives its process being killed at any moment", "[persistence][crash]") {
    SharedMemoryKey key;
    void* shared = ::mmap(nullptr, sizeof(SharedModel), PROT_READ | PROT_WRITE,
                          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(shared != MAP_FAILED);
    auto& model = *new (shared) SharedModel{};
    const std::uint64_t seed = std::random_device{}();
    INFO("seed " << seed);
    std::mt19937_64 rng(seed);
    constexpr int kRounds = 30;
    std::uint64_t verified = 0;
    std::uint64_t groups_seen = 0, dedup_seen = 0, recompressed_seen = 0;
    for (int round = 0; round < kRounds; ++round) {
        INFO("round " << round);
        model.ready.store(0);
        const std::uint64_t passes_before = model.passes.load();
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0)
            work_until_killed(key.value(), model, seed + round, round == 0);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        int status = 0;
        bool exited = false;
        while (model.ready.load() == 0 && std::chrono::steady_clock::now() < deadline) {
            if (::waitpid(child, &status, WNOHANG) == child) {
                exited = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        // Every third process is killed only after a whole recompression pass, so that the kills
        // land in stores holding what passes make however slowly the process runs (under
        // ThreadSanitizer one run killed 30 processes before any of them recompressed a page).
        while (!exited && round % 3 == 2 && model.passes.load() == passes_before &&
               std::chrono::steady_clock::now() < deadline) {
            if (::waitpid(child, &status, WNOHANG) == child) {
                exited = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        if (!exited) {
            // Early kills catch the attach itself and the first writes; later ones, steady work.
            std::this_thread::sleep_for(
                std::chrono::milliseconds(rng() % 4 == 0 ? rng() % 5 : 5 + rng() % 200));
            ::kill(child, SIGKILL);
            REQUIRE(::waitpid(child, &status, 0) == child);
        }
        INFO("child status " << status);
        REQUIRE(WIFSIGNALED(status));
        REQUIRE(WTERMSIG(status) == SIGKILL);

        auto attached = PageStore::attach(key.value(), StoreConfig{});
        INFO((attached ? std::string() : attached.error().message));
        REQUIRE(attached.ok());
        auto& store = **attached;
        REQUIRE(store.damaged_pages() == 0);
        verify_every_page(store, model);
        require_stats_exact(store);
        verified += kPages;
        groups_seen += store.object_stat().groups;
        dedup_seen += store.object_stat().dedup_pages;
        for (std::uint64_t page = 0; page < kPages; ++page)
            recompressed_seen +=
                dynamic_cast<store::CompressedPageStore&>(store).codec_id(page) != 0;
        // Now and then the test itself writes and compacts, to exercise the rebuilt allocator.
        if (round % 5 == 4) {
            for (std::uint64_t page = 0; page < kPages; page += 7) {
                const std::uint32_t version = model.next_version.fetch_add(1) + 1;
                REQUIRE(store.write_page(page, content(version)).ok());
                model.pages[page].committed.store(version);
            }
            store.compact();
            verify_every_page(store, model);
            require_stats_exact(store);
        }
    }
    // The kills did land in stores holding what every pass makes.
    CHECK(groups_seen > 0);
    CHECK(dedup_seen > 0);
    CHECK(recompressed_seen > 0);
    WARN("crash recovery: " << kRounds << " kills, " << model.operations.load() << " operations, "
                            << verified << " page checks");
    ::munmap(shared, sizeof(SharedModel));
}

} // namespace trueno::test
