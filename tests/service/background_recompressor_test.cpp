// BackgroundRecompressor over a real store and real memory pages (the shared corpus): the
// policy recompresses idle pages only, keeps to its page rate and CPU share, trains and
// retrains its dictionary, stops promptly, and every page reads back identical.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <new>
#include <stop_token>
#include <thread>
#include <vector>

#include "trueno/background_recompressor.hpp"
#include "compressed_page_store.hpp"
#include "corpus_pages.hpp"
#include "store_checks.hpp"
#include "store_fixtures.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;
using namespace std::chrono_literals;
using test::concrete;
using test::require_identical;
using test::write_all;

namespace {

// Shared: the worker holds the store too.
std::shared_ptr<PageStore> make_store(std::uint64_t pages) { return test::make_store(pages); }

// Real process memory (tests that use it are tagged [corpus]; they fail without it).
std::vector<std::byte> corpus(std::size_t pages) { return test::corpus_pages(pages); }

// Polls until done() holds or limit has passed; whether it holds.
template <typename Done> bool wait_until(Done done, std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

BackgroundPolicy policy(const char* text) {
    auto parsed = parse_background_policy(text);
    INFO(text << ": " << (parsed ? "" : parsed.error().message));
    REQUIRE(parsed.ok());
    REQUIRE(parsed->has_value());
    return **parsed;
}

// Sets the policy given as text and waits up to limit for the worker's first pass: that pass.
BackgroundPass first_pass(BackgroundRecompressor& worker, const char* text,
                          std::chrono::seconds limit) {
    REQUIRE(worker.set_policy(policy(text)).ok());
    REQUIRE(worker.wait_passes(1, limit));
    const auto pass = worker.last_pass();
    REQUIRE(pass);
    return *pass;
}

} // namespace

TEST_CASE("policy text: defaults, units, round trip and errors", "[background]") {
    auto off = parse_background_policy(" off\n");
    REQUIRE(off.ok());
    CHECK_FALSE(off->has_value());
    CHECK(format_background_policy(std::nullopt) == "off");
    const auto d = policy("balanced");
    CHECK(d == BackgroundPolicy{});
    CHECK(format_background_policy(d) == "balanced age=3600 interval=600 rate=2000 cpu=10 priority=3 type=idle");
    const auto p = policy("strong age=30min interval=2h rate=0 cpu=100 priority=1 type=huge_idle");
    CHECK(p.age_seconds == 1800);
    CHECK(p.interval_seconds == 7200);
    CHECK(p.rate_pages == 0);
    CHECK(p.cpu_percent == 100);
    CHECK(p.priority == 1);
    CHECK(policy(format_background_policy(p).c_str()) == p);
    for (const char* bad : {"", "fastest", "off now", "balanced age", "balanced age=", "balanced age=1y",
                            "balanced age=-1", "balanced interval=0", "balanced cpu=0", "balanced cpu=101",
                            "balanced priority=0", "balanced priority=4", "balanced rate=lots", "balanced type=huge",
                            "balanced colour=red"}) {
        auto r = parse_background_policy(bad);
        INFO(bad);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == EINVAL);
        CHECK_FALSE(r.error().message.empty());
    }
}

TEST_CASE("the policy recompresses idle pages only, and every page reads back identical",
          "[background][corpus]") {
    const auto pages = corpus(1024);
    auto s = make_store(2048);
    write_all(*s, pages);
    // Until every page is 3 s old by the store's clock (mark_idle counts the pages that are).
    REQUIRE(wait_until([&] { return s->mark_idle(3) == 1024; }, 60s));
    // The first 128 pages are used again: written now and then read on, as a running program
    // uses its pages, until the pass is over. However long the worker (SCHED_IDLE) waits for a
    // CPU on a busy machine, they never get 3 s old: they must not be recompressed.
    std::vector<std::byte> young(pages.begin(), pages.begin() + 128 * kPageSize);
    write_all(*s, young);
    const auto before = s->mm_stat();
    // The young pages' stored objects, byte for byte: the pass must not touch them.
    auto& c = concrete(*s);
    std::vector<std::vector<std::byte>> young_objects;
    for (std::uint64_t i = 0; i < 128; ++i) {
        auto object = c.stored_object(i);
        young_objects.emplace_back(object.begin(), object.end());
    }
    std::atomic<bool> read_failed{false};
    std::jthread user([&](std::stop_token stop) {
        std::array<std::byte, kPageSize> page;
        while (!stop.stop_requested()) {
            for (std::uint64_t i = 0; i < 128; ++i)
                if (!s->read_page(i, page).ok())
                    read_failed = true;
            std::this_thread::sleep_for(100ms);
        }
    });

    BackgroundRecompressor worker(s);
    const BackgroundPass pass = first_pass(worker, "balanced age=3 interval=3600 rate=0 cpu=100", 120s);
    user.request_stop();
    user.join();
    CHECK_FALSE(read_failed);
    INFO("marked " << pass.marked_idle << " tried " << pass.report.tried << " kept " << pass.report.kept
                   << " note " << pass.note);
    CHECK(pass.number == 1);
    CHECK(pass.note.empty());
    CHECK(pass.marked_idle <= 1024 - 128);
    CHECK(pass.marked_idle >= 1024 - 128 - 64); // the corpus has some same-filled pages; still marked
    CHECK(pass.report.kept > 0);
    CHECK(pass.report.bytes_after < pass.report.bytes_before);
    CHECK(s->mm_stat().compr_data_size < before.compr_data_size);
    for (std::uint64_t i = 0; i < 128; ++i) {
        INFO("young page " << i);
        auto object = c.stored_object(i);
        REQUIRE(std::vector<std::byte>(object.begin(), object.end()) == young_objects[i]);
        REQUIRE_FALSE(c.is_idle(i));
    }
    require_identical(*s, pages);
}

TEST_CASE("the page rate and the CPU share are kept", "[background][corpus]") {
    const auto pages = corpus(1024);
    SECTION("rate") {
        auto s = make_store(1024);
        write_all(*s, pages);
        BackgroundRecompressor worker(s);
        const BackgroundPass pass = first_pass(worker, "fast age=0 interval=3600 rate=400 cpu=100", 120s);
        INFO("tried " << pass.report.tried << " in " << pass.seconds << " s");
        REQUIRE(pass.report.tried > 500);
        // Paced after every batch of rate/4 pages except the last.
        const double floor = static_cast<double>(pass.report.tried - 100) / 400.0;
        CHECK(pass.seconds >= 0.9 * floor);
        CHECK(pass.seconds < floor + 60); // and not stalled
        require_identical(*s, pages);
    }
    SECTION("cpu") {
        auto s = make_store(1024);
        write_all(*s, pages);
        BackgroundRecompressor worker(s);
        const BackgroundPass pass = first_pass(worker, "balanced age=0 interval=3600 rate=0 cpu=10", 300s);
        INFO("cpu " << pass.report.cpu_seconds << " s in " << pass.seconds << " s");
        REQUIRE(pass.report.cpu_seconds > 0);
        CHECK(pass.report.cpu_seconds / pass.seconds <= 0.10 * 1.3);
        require_identical(*s, pages);
    }
}

TEST_CASE("removing the device stops the worker promptly, mid-pass", "[background][corpus]") {
    const auto pages = corpus(2048);
    auto s = make_store(2048);
    write_all(*s, pages);
    auto worker = std::make_unique<BackgroundRecompressor>(s);
    // 50 pages/s: a pass over 2048 pages would take 40 s.
    REQUIRE(worker->set_policy(policy("balanced age=0 interval=3600 rate=50 cpu=100")).ok());
    // The pass has begun once it has marked the pages idle (age=0: every page; the last one is
    // recompressed last, some 40 s on).
    auto& c = concrete(*s);
    REQUIRE(wait_until([&] { return c.is_idle(2047); }, 60s));
    CHECK(worker->passes() == 0);
    const auto start = std::chrono::steady_clock::now();
    worker.reset();
    const auto took = std::chrono::steady_clock::now() - start;
    INFO("stop took " << std::chrono::duration<double>(took).count() << " s");
    CHECK(took < 2s);
    require_identical(*s, pages);
}

TEST_CASE("one-off runs: EBUSY while one runs, results reported, data intact",
          "[background][corpus]") {
    const auto pages = corpus(1024);
    auto s = make_store(1024);
    write_all(*s, pages);
    CodecParams strongest;
    strongest.level = 19;
    REQUIRE(s->set_recomp_algorithm(1, "zstd", strongest).ok());
    BackgroundRecompressor worker(s);
    CHECK(worker.start_manual({}).error().code == EINVAL);
    RecompressOptions all;
    all.type = RecompressOptions::Type::all;
    REQUIRE(worker.start_manual({all}).ok());
    CHECK(worker.start_manual({all}).error().code == EBUSY); // level 19 over 1024 pages takes a while
    REQUIRE(worker.wait_manual_idle(300s));
    const auto m = worker.manual();
    CHECK_FALSE(m.running);
    CHECK(m.error.empty());
    CHECK(m.report.tried > 900);
    CHECK(m.report.kept > 0);
    require_identical(*s, pages);
    // max_pages is shared by the steps; a missing priority is reported as the store says.
    RecompressOptions p2 = all;
    p2.priority = 2;
    REQUIRE(worker.start_manual({p2}).ok());
    REQUIRE(worker.wait_manual_idle(60s));
    CHECK_FALSE(worker.manual().error.empty());
}

TEST_CASE("a dictionary policy trains on the device's pages, then retrains when the ratio drifts",
          "[background][corpus]") {
    const auto heap = corpus(3072);
    auto s = make_store(8192);
    const std::vector<std::byte> first(heap.begin(), heap.begin() + 1024 * kPageSize);
    write_all(*s, first);
    BackgroundRecompressor worker(s);
    const BackgroundPass pass = first_pass(worker, "strong age=0 interval=1 rate=0 cpu=100 priority=2", 300s);
    INFO("note: " << pass.note);
    CHECK(pass.retrained);
    CHECK(worker.dictionaries_trained() == 1);
    auto algorithms = s->recomp_algorithms();
    REQUIRE(algorithms.size() == 1);
    CHECK(algorithms[0].priority == 2);
    CHECK(algorithms[0].params.dictionary);

    // More of the same kind of pages: the gain after training becomes the baseline.
    const std::vector<std::byte> similar(heap.begin() + 1024 * kPageSize, heap.end());
    write_all(*s, similar, 1024);
    const auto passes = worker.passes();
    REQUIRE(worker.wait_passes(passes + 2, 300s));
    CHECK(worker.dictionaries_trained() == 1);

    // Pages half of random bytes: the recompressed gain drops far below it, so it retrains.
    std::vector<std::byte> mixed(first);
    std::uint64_t x = 0x9E3779B97F4A7C15ULL;
    for (std::size_t p = 0; p < mixed.size() / kPageSize; ++p)
        for (std::size_t i = 0; i < kPageSize / 2; ++i) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            mixed[p * kPageSize + i] = static_cast<std::byte>(x);
        }
    write_all(*s, mixed, 4096);
    const auto before_drift = worker.passes();
    REQUIRE(worker.wait_passes(before_drift + 3, 300s));
    CHECK(worker.dictionaries_trained() == 2);
    require_identical(*s, first);
    require_identical(*s, similar, 1024);
    require_identical(*s, mixed, 4096);
}

TEST_CASE("a pass or one-off run that throws is abandoned; the worker carries on", "[background]") {
    // Compressible pages of our own: the failure path does not need the corpus.
    std::vector<std::byte> pages(64 * kPageSize);
    for (std::size_t i = 0; i < pages.size(); ++i)
        pages[i] = static_cast<std::byte>((i / 64) & 0xff);
    auto s = make_store(64);
    write_all(*s, pages);
    REQUIRE(s->set_recomp_algorithm(1, "zstd", CodecParams{}).ok()); // for the one-off runs
    BackgroundRecompressor worker(s);
    // The first two passes or runs fail as they would when memory runs out.
    std::atomic<int> calls{0};
    worker.set_test_hook([&calls] {
        if (calls.fetch_add(1) < 2)
            throw std::bad_alloc();
    });
    RecompressOptions all;
    all.type = RecompressOptions::Type::all;
    REQUIRE(worker.start_manual({all}).ok());
    REQUIRE(worker.wait_manual_idle(60s));
    CHECK_FALSE(worker.manual().running);
    CHECK(worker.manual().finished == 1);
    CHECK_FALSE(worker.manual().error.empty());
    CHECK(worker.background_failures() == 1);

    // The failed pass does not count; the next one comes an interval later.
    REQUIRE(worker.set_policy(policy("balanced age=0 interval=1 rate=0 cpu=100")).ok());
    REQUIRE(worker.wait_passes(1, 60s));
    CHECK(worker.background_failures() == 2);
    CHECK(calls.load() >= 3);

    // And a one-off run works again.
    REQUIRE(worker.start_manual({all}).ok());
    REQUIRE(worker.wait_manual_idle(60s));
    INFO(worker.manual().error);
    CHECK(worker.manual().error.empty());
    CHECK(worker.manual().finished == 2);
    CHECK(worker.background_failures() == 2);
    require_identical(*s, pages);
}
