// The refill thread's throttled reclaim is cut short by a waiting write's signal
// (refill_interrupter.hpp). The kernel's throttle is an interruptible sleep; here an
// interruptible nanosleep stands in for it, on the refill thread, where the kernel's would be.
#include "refill_interrupter.hpp"
#include "test_allocator.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <signal.h>
#include <thread>
#include <time.h>
#include <vector>

using namespace trueno::store;
using trueno::kPageSize;
using trueno::store::testing::TestAllocator;
using namespace std::chrono_literals;

namespace {

void do_nothing(int) {}

// The daemon's handler (service/refill_interrupt_signal.cpp) for the test's lifetime.
class NoOpHandler {
public:
    explicit NoOpHandler(int signal) : signal_(signal) {
        struct sigaction action {};
        action.sa_handler = do_nothing;
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        REQUIRE(sigaction(signal_, &action, &previous_) == 0);
    }
    ~NoOpHandler() { sigaction(signal_, &previous_, nullptr); }
    NoOpHandler(const NoOpHandler&) = delete;
    NoOpHandler& operator=(const NoOpHandler&) = delete;

private:
    int signal_;
    struct sigaction previous_ {};
};

struct Sleep {
    bool interrupted = false;
    std::chrono::milliseconds took{0};
};

// An interruptible sleep of `length`, as the kernel's throttle is.
Sleep sleep_interruptibly(std::chrono::seconds length) {
    const auto start = std::chrono::steady_clock::now();
    timespec request{static_cast<time_t>(length.count()), 0};
    timespec left{};
    Sleep result;
    result.interrupted = nanosleep(&request, &left) != 0 && errno == EINTR;
    result.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return result;
}

} // namespace

TEST_CASE(
    "refill interrupter: a step stalled past its threshold is interrupted, once per threshold",
    "[store][refill-interrupt]") {
    NoOpHandler handler(SIGURG);
    RefillInterrupter interrupter(20ms);
    interrupter.set_signal(SIGURG);
    CHECK_FALSE(interrupter.interrupt_if_stalled()); // no refill thread yet

    std::atomic<bool> entered{false};
    std::atomic<bool> stepping{false};
    Sleep slept;
    std::thread refiller([&] {
        interrupter.enter_thread();
        entered = true;
        {
            const RefillInterrupter::Step step(interrupter);
            stepping = true;
            slept = sleep_interruptibly(5s);
        }
        stepping = false;
        interrupter.leave_thread();
    });
    while (!stepping)
        std::this_thread::yield();
    // Not stalled long enough yet: nothing sent.
    CHECK_FALSE(interrupter.interrupt_if_stalled());
    std::this_thread::sleep_for(30ms);
    CHECK(interrupter.interrupt_if_stalled());
    // At most one signal per threshold, whoever asks.
    CHECK_FALSE(interrupter.interrupt_if_stalled());
    refiller.join();
    CHECK(entered);
    CHECK(slept.interrupted);
    CHECK(slept.took < 1s);
    CHECK(interrupter.interrupts() == 1);
    // The thread left: nothing more is sent.
    std::this_thread::sleep_for(30ms);
    CHECK_FALSE(interrupter.interrupt_if_stalled());
    CHECK(interrupter.interrupts() == 1);
}

TEST_CASE("refill interrupter: nothing is sent without a signal or outside a step",
          "[store][refill-interrupt]") {
    NoOpHandler handler(SIGURG);
    SECTION("signal 0") {
        RefillInterrupter interrupter(1ms);
        std::thread refiller([&] {
            interrupter.enter_thread();
            const RefillInterrupter::Step step(interrupter);
            std::this_thread::sleep_for(50ms);
            CHECK_FALSE(interrupter.interrupt_if_stalled());
            interrupter.leave_thread();
        });
        refiller.join();
        CHECK(interrupter.interrupts() == 0);
    }
    SECTION("between steps") {
        RefillInterrupter interrupter(1ms);
        interrupter.set_signal(SIGURG);
        std::atomic<bool> done{false};
        std::thread refiller([&] {
            interrupter.enter_thread();
            { const RefillInterrupter::Step step(interrupter); }
            while (!done)
                std::this_thread::sleep_for(1ms);
            interrupter.leave_thread();
        });
        std::this_thread::sleep_for(50ms);
        CHECK_FALSE(interrupter.interrupt_if_stalled());
        done = true;
        refiller.join();
        CHECK(interrupter.interrupts() == 0);
    }
}

TEST_CASE("never-fault allocator: a write waiting for a stalled refiller interrupts its wait",
          "[store][never-fault][refill-interrupt]") {
    // The refiller stalls after it has published pages (as a fault throttled in reclaim would,
    // inside a populating step); a writer drains the top class's reserve, waits, and must end
    // the stall long before its 3 s: the writes then find memory again.
    NoOpHandler handler(SIGURG);
    TestAllocator allocator(200000);
    allocator.set_refill_interrupt_signal(SIGURG);
    std::atomic<bool> armed{false};
    std::atomic<bool> stalled_done{false};
    Sleep stall;
    allocator.set_publish_observer([&] {
        if (!armed.exchange(false))
            return;
        stall = sleep_interruptibly(3s);
        stalled_done = true;
    });
    allocator.enable_reserve(2);
    armed = true;
    std::vector<Handle> handles;
    handles.reserve(100000);
    std::uint64_t owner = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!stalled_done && std::chrono::steady_clock::now() < deadline &&
           handles.size() < handles.capacity()) {
        if (auto handle = allocator.allocate(kPageSize, owner++))
            handles.push_back(*handle);
    }
    REQUIRE(stalled_done);
    INFO("pages written before the stall ended: " << handles.size() << ", waits "
                                                  << allocator.reserve_waits());
    CHECK(stall.interrupted);
    CHECK(stall.took < 1s);
    CHECK(allocator.refill_interrupts() >= 1);
    CHECK(allocator.reserve_waits() >= 1);
    allocator.stop_reserve();
    for (Handle handle : handles)
        allocator.free(handle);
}

TEST_CASE("never-fault allocator: without the signal a stalled refiller is waited out",
          "[store][never-fault][refill-interrupt]") {
    // The same stall, shorter, with no signal configured: the writes wait it out (what the
    // daemon did before, and does with --interrupt-reclaim=false).
    TestAllocator allocator(200000);
    std::atomic<bool> armed{false};
    std::atomic<bool> stalled_done{false};
    Sleep stall;
    allocator.set_publish_observer([&] {
        if (!armed.exchange(false))
            return;
        stall = sleep_interruptibly(1s);
        stalled_done = true;
    });
    allocator.enable_reserve(2);
    armed = true;
    std::vector<Handle> handles;
    handles.reserve(100000);
    std::uint64_t owner = 0;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!stalled_done && std::chrono::steady_clock::now() < deadline &&
           handles.size() < handles.capacity()) {
        if (auto handle = allocator.allocate(kPageSize, owner++))
            handles.push_back(*handle);
    }
    REQUIRE(stalled_done);
    CHECK_FALSE(stall.interrupted);
    CHECK(allocator.refill_interrupts() == 0);
    CHECK(allocator.reserve_refusals() >= 1);
    allocator.stop_reserve();
    for (Handle handle : handles)
        allocator.free(handle);
}
