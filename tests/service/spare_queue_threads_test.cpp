#include "ublk/spare_queue_threads.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <thread>

using trueno::ublk::QueueRing;
using trueno::ublk::SpareQueueThreads;
using namespace std::chrono_literals;

namespace {

// Waits (at most 10 s) until `spares` has `count` spares ready for rings of `entries`.
bool wait_ready(const SpareQueueThreads& spares, unsigned entries, std::size_t count) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (spares.ready(entries) != count) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// What a job saw on the spare's thread.
struct Seen {
    std::thread::id thread;
    int ring_status = -1;
    unsigned ring_entries = 0;
    int nop_result = -1; // a NOP submitted and reaped on the ring: it works on this thread
};

} // namespace

TEST_CASE("spares hand their thread and a working ring to a job") {
    SpareQueueThreads spares;
    spares.keep({{129, 2}});
    REQUIRE(spares.size() == 2);
    REQUIRE(spares.wait_ready(10s));
    REQUIRE(spares.ready(129) == 2);

    std::promise<Seen> seen;
    SpareQueueThreads::Job job = [&seen](QueueRing ring) {
        Seen s;
        s.thread = std::this_thread::get_id();
        s.ring_status = ring.status();
        s.ring_entries = ring.entries();
        if (ring.status() == 0) {
            io_uring_sqe* sqe = io_uring_get_sqe(&ring.get());
            io_uring_prep_nop(sqe);
            io_uring_cqe* cqe = nullptr;
            if (io_uring_submit_and_wait(&ring.get(), 1) == 1 &&
                io_uring_peek_cqe(&ring.get(), &cqe) == 0)
                s.nop_result = cqe->res;
        }
        seen.set_value(s);
    };
    auto thread = spares.run(129, job);
    REQUIRE(thread.has_value());
    REQUIRE_FALSE(job); // moved to the spare
    const Seen s = seen.get_future().get();
    const auto spare_id = thread->get_id();
    thread->join(); // the thread ends with its job
    CHECK(s.thread == spare_id);
    CHECK(s.ring_status == 0);
    CHECK(s.ring_entries == 129);
    CHECK(s.nop_result == 0);
    CHECK(spares.size() == 1);
    CHECK(spares.ready(129) == 1);
}

TEST_CASE("no spare of that size: the job stays with the caller") {
    SpareQueueThreads spares;
    spares.keep({{65, 1}});
    REQUIRE(wait_ready(spares, 65, 1));
    bool ran = false;
    SpareQueueThreads::Job job = [&ran](QueueRing) {
        ran = true;
    };
    CHECK_FALSE(spares.run(129, job).has_value());
    CHECK(static_cast<bool>(job));
    CHECK_FALSE(ran);
    CHECK(spares.size() == 1);
}

TEST_CASE("keep starts what is missing and ends what is not wanted") {
    SpareQueueThreads spares;
    spares.keep({{129, 3}, {33, 1}});
    CHECK(spares.size() == 4);
    REQUIRE(wait_ready(spares, 129, 3));
    REQUIRE(wait_ready(spares, 33, 1));
    spares.keep({{129, 1}, {257, 2}});
    CHECK(spares.size() == 3);
    CHECK(spares.ready(33) == 0);
    REQUIRE(wait_ready(spares, 257, 2));
    CHECK(spares.ready(129) == 1);
    spares.keep({});
    CHECK(spares.size() == 0);
}

TEST_CASE("spares not handed out end with their owner, taken ones run on") {
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::promise<void> finished;
    std::optional<std::thread> taken;
    {
        SpareQueueThreads spares;
        spares.keep({{17, 2}});
        REQUIRE(wait_ready(spares, 17, 2));
        SpareQueueThreads::Job job = [released, &finished](QueueRing) {
            released.wait();
            finished.set_value();
        };
        taken = spares.run(17, job);
        REQUIRE(taken.has_value());
    } // the other spare ends here; the taken one still waits in its job
    release.set_value();
    CHECK(finished.get_future().wait_for(10s) == std::future_status::ready);
    taken->join();
}
