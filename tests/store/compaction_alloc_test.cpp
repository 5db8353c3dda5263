// Compaction must not allocate while it holds a class lock: an allocation may fault and wait in
// reclaim, and the I/O threads that take the same lock must never wait on reclaim. This
// executable replaces operator new (hence a program of its own): on the compacting thread every
// allocation first waits for an "I/O" probe -- an allocation and a free in each class in use --
// to get through. A probe that cannot get through means the allocation happened under a class
// lock.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

#include "size_class_allocator.hpp"
#include "test_allocator.hpp"

using trueno::store::Handle;
using trueno::store::ObjectOwners;
using trueno::store::SizeClassAllocator;
using trueno::store::testing::TestAllocator;

namespace {

// Runs probes of the allocator's classes on a thread of its own, on request.
class IoProbe {
public:
    // How long a probe may take before its classes count as locked (the machine may be busy).
    static constexpr auto kPatience = std::chrono::seconds(3);

    IoProbe(SizeClassAllocator& allocator, std::vector<std::size_t> sizes)
        : allocator_(allocator), sizes_(std::move(sizes)),
          thread_([this](std::stop_token stop) { run(stop); }) {}

    // Asks for a probe and waits for it (at most kPatience). Allocates nothing.
    void check() {
        std::unique_lock lock(mutex_);
        if (completed_ != requested_) {
            ++skipped_; // an earlier probe is still stuck behind a lock
            return;
        }
        ++requested_;
        wake_.notify_all();
        if (!done_.wait_for(lock, kPatience, [this] { return completed_ == requested_; })) ++stuck_;
        ++checks_;
    }
    // Waits for an outstanding probe (once the compaction is over).
    void drain() {
        std::unique_lock lock(mutex_);
        done_.wait(lock, [this] { return completed_ == requested_; });
    }
    std::uint64_t checks() {
        std::lock_guard lock(mutex_);
        return checks_;
    }
    std::uint64_t stuck() {
        std::lock_guard lock(mutex_);
        return stuck_ + skipped_;
    }

private:
    void run(std::stop_token stop) {
        std::unique_lock lock(mutex_);
        while (wake_.wait(lock, stop, [this] { return requested_ != completed_; })) {
            const std::uint64_t target = requested_;
            lock.unlock();
            for (std::size_t size : sizes_) // as a write and a discard would
                if (auto handle = allocator_.allocate(size, kProbeOwner)) allocator_.free(*handle);
            lock.lock();
            completed_ = target;
            done_.notify_all();
        }
    }

    static constexpr std::uint64_t kProbeOwner = 1u << 30; // no object of the test's
    SizeClassAllocator& allocator_;
    const std::vector<std::size_t> sizes_;
    std::mutex mutex_;
    std::condition_variable_any wake_;
    std::condition_variable done_;
    std::uint64_t requested_ = 0;
    std::uint64_t completed_ = 0;
    std::uint64_t checks_ = 0;
    std::uint64_t stuck_ = 0;
    std::uint64_t skipped_ = 0;
    std::jthread thread_; // last: stopped before the members it uses go
};

// Set on the compacting thread only, while it compacts.
thread_local IoProbe* t_probe = nullptr;

// The store's role, without allocating (it runs under the class lock).
struct Owners final : ObjectOwners {
    std::vector<Handle> handles;
    std::size_t moves = 0;
    bool try_move(std::uint64_t owner, Handle from, Handle, std::span<const std::byte> source,
                  std::span<std::byte> target) override {
        if (owner >= handles.size() || handles[owner] != from) return false;
        std::copy(source.begin(), source.end(), target.begin());
        ++moves;
        return true;
    }
};

} // namespace

void* operator new(std::size_t size) {
    if (IoProbe* probe = t_probe) {
        t_probe = nullptr; // not again for allocations inside the check
        probe->check();
        t_probe = probe;
    }
    if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return ::operator new(size); }
// The nothrow forms too: their memory comes back through the operator delete below (a
// sanitizer's own nothrow new would not pair with it).
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    try {
        return ::operator new(size);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return ::operator new(size, std::nothrow);
}
void operator delete(void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete[](void* memory, const std::nothrow_t&) noexcept { std::free(memory); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }

TEST_CASE("compaction allocates nothing while it holds a class lock", "[store][compact]") {
    const bool never_fault = GENERATE(false, true);
    INFO((never_fault ? "never-fault mode" : "plain mode"));
    const std::vector<std::size_t> sizes = {3000, 700, 100};
    TestAllocator allocator(20000);
    if (never_fault) allocator.enable_reserve(1, /*background=*/false);
    Owners owners;
    for (std::size_t size : sizes) {
        for (int k = 0; k < 2000; ++k) {
            const std::uint64_t owner = owners.handles.size();
            auto handle = allocator.allocate(size, owner);
            if (!handle && never_fault) {
                allocator.refill_now();
                handle = allocator.allocate(size, owner);
            }
            REQUIRE(handle);
            owners.handles.push_back(*handle);
        }
    }
    // Holes below the objects, some on pages given back: work for every part of compaction.
    for (std::uint64_t owner = 0; owner < owners.handles.size(); ++owner)
        if ((owner / 16) % 4 != 3)
            allocator.free(std::exchange(owners.handles[owner], Handle{~0ull}));
    if (never_fault) allocator.trim_empty_pages();

    IoProbe probe(allocator, sizes);
    std::thread compactor([&] {
        t_probe = &probe;
        allocator.compact(owners);
        t_probe = nullptr;
    });
    compactor.join();
    probe.drain();
    INFO("allocations checked " << probe.checks() << ", moves " << owners.moves);
    CHECK(probe.checks() > 0); // it did allocate (outside the locks)
    CHECK(owners.moves > 0);
    CHECK(probe.stuck() == 0);
}
