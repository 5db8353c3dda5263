// The harness of the store's concurrency tests: threads that use a store at once until told to
// stop, readers that check every page they see, and the versions handed out per page that those
// checks go by.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>
#include <vector>

#include "test_pages.hpp"
#include "trueno/page_store.hpp"

namespace trueno::test {

// Per page, the highest version handed out to a writer of versioned_page: a reader may see any
// version up to it, never one above.
class IssuedVersions {
public:
    explicit IssuedVersions(std::uint64_t pages) : issued_(pages) {}

    // The next version of page index, for its writer to write.
    std::uint64_t issue(std::uint64_t index) { return issued_[index].fetch_add(1) + 1; }

    // Whether page, read at index, is a whole versioned page written there: not torn, not
    // another page's, not from the future.
    bool whole(std::uint64_t index, const Page& page) const;

private:
    std::vector<std::atomic<std::uint64_t>> issued_;
};

// Threads with one stop flag and one failure count. Declare it after what its threads use: its
// destructor stops and joins them before those go.
class ConcurrentRun {
public:
    ConcurrentRun() = default;
    ConcurrentRun(const ConcurrentRun&) = delete;
    ConcurrentRun& operator=(const ConcurrentRun&) = delete;
    // Stops and joins what still runs: a REQUIRE that fails before run_for() must not leave
    // joinable threads behind (std::terminate).
    ~ConcurrentRun() { stop(); }

    // Starts body on a thread of its own; it should loop while running().
    template <class Body>
    void spawn(Body&& body) {
        threads_.emplace_back(std::forward<Body>(body));
    }
    // Starts a reader of random pages below pages, counted in reads(): a failed read, or a page
    // other than zeros that accept(index, page) turns down, is a failure.
    void spawn_reader(PageStore& store, std::uint64_t pages, std::uint64_t seed,
                      std::function<bool(std::uint64_t, const Page&)> accept);

    bool running() const { return !stop_.load(std::memory_order_relaxed); }
    void fail() { failures_.fetch_add(1); }

    // Lets the threads run for at least at_least, then on until enough() holds (or at_most
    // has passed), then stops them and waits for every one. What a test asserts about how much
    // its threads did goes in enough(): a fixed time would leave that to how loaded the machine
    // is (two cores shared with VM tests, under a sanitizer).
    void run_until(const std::function<bool()>& enough, std::chrono::milliseconds at_least,
                   std::chrono::milliseconds at_most = std::chrono::minutes(2));

    std::uint64_t failures() const { return failures_.load(); }
    std::uint64_t reads() const { return reads_.load(); }

private:
    void stop();

    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> failures_{0};
    std::atomic<std::uint64_t> reads_{0};
    std::vector<std::thread> threads_;
};

} // namespace trueno::test
