#include "concurrent_run.hpp"

#include <random>

namespace trueno::test {

bool IssuedVersions::whole(std::uint64_t index, const Page& page) const {
    const auto id = identify(page);
    return id.index == index && id.version != 0 && id.version <= issued_[index].load() &&
           page == versioned_page(index, id.version);
}

void ConcurrentRun::spawn_reader(PageStore& store, std::uint64_t pages, std::uint64_t seed,
                                 std::function<bool(std::uint64_t, const Page&)> accept) {
    spawn([this, &store, pages, seed, accept = std::move(accept)] {
        std::mt19937_64 rng(seed);
        Page page;
        const Page zero = same_filled_page(0); // never written, or discarded
        while (running()) {
            const std::uint64_t index = rng() % pages;
            if (!store.read_page(index, page).ok()) {
                fail();
                continue;
            }
            reads_.fetch_add(1, std::memory_order_relaxed);
            if (page == zero) continue;
            if (!accept(index, page)) fail();
        }
    });
}

void ConcurrentRun::run_until(const std::function<bool()>& enough,
                              std::chrono::milliseconds at_least,
                              std::chrono::milliseconds at_most) {
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(at_least);
    while (!enough() && std::chrono::steady_clock::now() - start < at_most)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop();
}

void ConcurrentRun::stop() {
    stop_.store(true);
    for (auto& thread : threads_)
        if (thread.joinable()) thread.join();
}

} // namespace trueno::test
