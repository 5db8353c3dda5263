#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "trueno/thread_pool.hpp"

using trueno::ThreadPool;

TEST_CASE("parallel_for runs every index exactly once", "[thread_pool]") {
    ThreadPool pool(3);
    REQUIRE(pool.size() == 3);
    for (std::size_t count : {0u, 1u, 7u, 1000u}) {
        std::vector<std::atomic<int>> hits(count);
        for (auto& h : hits) h.store(0);
        pool.parallel_for(count, [&](std::size_t i) { hits[i].fetch_add(1); });
        for (auto& h : hits) REQUIRE(h.load() == 1);
    }
    REQUIRE(ThreadPool(0).size() >= 1);
}

TEST_CASE("parallel_for from several callers at once", "[thread_pool]") {
    ThreadPool pool(2);
    std::atomic<std::uint64_t> total{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 3; ++c)
        callers.emplace_back([&] {
            for (int round = 0; round < 50; ++round)
                pool.parallel_for(100, [&](std::size_t i) { total.fetch_add(i); });
        });
    for (auto& caller : callers) caller.join();
    REQUIRE(total.load() == 3 * 50 * (99 * 100 / 2));
}
