#include "ublk/backing_reads.hpp"

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <poll.h>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

using trueno::ublk::BackingReads;
using namespace std::chrono_literals;

namespace {

bool readable(int fd, std::chrono::milliseconds wait) {
    pollfd p{fd, POLLIN, 0};
    return poll(&p, 1, static_cast<int>(wait.count())) == 1 && (p.revents & POLLIN);
}

// A gate the reads wait at until the test opens it.
struct Gate {
    std::mutex lock;
    std::condition_variable changed;
    bool open = false;
    unsigned waiting = 0;
    void pass() {
        std::unique_lock guard(lock);
        ++waiting;
        changed.notify_all();
        changed.wait(guard, [&] { return open; });
    }
    bool wait_for_waiter(std::chrono::milliseconds wait) {
        std::unique_lock guard(lock);
        return changed.wait_for(guard, wait, [&] { return waiting > 0; });
    }
    void let_through() {
        std::lock_guard guard(lock);
        open = true;
        changed.notify_all();
    }
};

std::vector<std::pair<unsigned, int>> collect_all(BackingReads& reads, std::size_t expected) {
    std::vector<std::pair<unsigned, int>> got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got.size() < expected && std::chrono::steady_clock::now() < deadline) {
        if (readable(reads.event_fd(), 100ms))
            reads.collect([&](unsigned tag, int result) { got.emplace_back(tag, result); });
    }
    return got;
}

} // namespace

TEST_CASE("handed-off reads run on their own thread and come back in order", "[backing-reads]") {
    const auto queue_thread = std::this_thread::get_id();
    std::mutex seen_lock;
    std::vector<std::thread::id> threads;
    auto reads = BackingReads::create(8, "test-bdread", [&](unsigned tag) {
        std::lock_guard guard(seen_lock);
        threads.push_back(std::this_thread::get_id());
        return static_cast<int>(tag * 4096);
    });
    REQUIRE(reads);
    for (unsigned tag : {3u, 0u, 7u, 5u})
        (*reads)->hand_off(tag);
    const auto got = collect_all(**reads, 4);
    REQUIRE(got == std::vector<std::pair<unsigned, int>>{{3, 3 * 4096}, {0, 0}, {7, 7 * 4096}, {5, 5 * 4096}});
    CHECK((*reads)->in_flight() == 0);
    CHECK(!readable((*reads)->event_fd(), 0ms));
    for (auto id : threads)
        CHECK(id != queue_thread);
}

TEST_CASE("a slow read does not hold up the queue thread", "[backing-reads]") {
    Gate gate;
    auto reads = BackingReads::create(4, "test-bdread", [&](unsigned tag) {
        gate.pass();
        return static_cast<int>(tag);
    });
    REQUIRE(reads);
    (*reads)->hand_off(1);
    (*reads)->hand_off(2);
    REQUIRE(gate.wait_for_waiter(10s));
    // The queue thread goes on: nothing is finished, nothing to collect, nothing blocks.
    CHECK(!readable((*reads)->event_fd(), 20ms));
    CHECK((*reads)->in_flight() == 2);
    gate.let_through();
    const auto got = collect_all(**reads, 2);
    REQUIRE(got == std::vector<std::pair<unsigned, int>>{{1, 1}, {2, 2}});
    CHECK((*reads)->in_flight() == 0);
}

TEST_CASE("a read that throws fails with EIO and the thread serves on", "[backing-reads]") {
    auto reads = BackingReads::create(4, "test-bdread", [](unsigned tag) -> int {
        if (tag == 1)
            throw std::runtime_error("the device went away");
        return 4096;
    });
    REQUIRE(reads);
    (*reads)->hand_off(1);
    (*reads)->hand_off(2);
    const auto got = collect_all(**reads, 2);
    REQUIRE(got == std::vector<std::pair<unsigned, int>>{{1, -EIO}, {2, 4096}});
}

TEST_CASE("stop finishes the read in progress and leaves the ones not started", "[backing-reads]") {
    Gate gate;
    auto reads = BackingReads::create(4, "test-bdread", [&](unsigned tag) {
        gate.pass();
        return static_cast<int>(tag);
    });
    REQUIRE(reads);
    (*reads)->hand_off(1);
    (*reads)->hand_off(2);
    (*reads)->hand_off(3);
    REQUIRE(gate.wait_for_waiter(10s));
    std::thread stopper([&] { (*reads)->stop(); });
    std::this_thread::sleep_for(20ms); // stop() is waiting for the read in progress
    gate.let_through();
    stopper.join();
    // The read in progress finished and can be committed; 2 and 3 stay with the kernel.
    CHECK((*reads)->in_flight() == 1);
    std::vector<std::pair<unsigned, int>> got;
    (*reads)->collect([&](unsigned tag, int result) { got.emplace_back(tag, result); });
    CHECK(got == std::vector<std::pair<unsigned, int>>{{1, 1}});
    CHECK((*reads)->in_flight() == 0);
}

TEST_CASE("the tag ring wraps around at the depth", "[backing-reads]") {
    auto reads = BackingReads::create(2, "test-bdread", [](unsigned tag) { return static_cast<int>(tag); });
    REQUIRE(reads);
    std::vector<std::pair<unsigned, int>> all;
    for (unsigned round = 0; round < 5; ++round) {
        (*reads)->hand_off(0);
        (*reads)->hand_off(1);
        for (auto& r : collect_all(**reads, 2))
            all.push_back(r);
    }
    REQUIRE(all.size() == 10);
    for (std::size_t i = 0; i < all.size(); ++i)
        CHECK(all[i].first == i % 2);
}
