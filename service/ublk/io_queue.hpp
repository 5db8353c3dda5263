// One hardware queue of a ublk device: its own thread and io_uring, the mmapped descriptor
// array, and preallocated, mlocked buffers (one per tag in copy mode, one for the queue with
// user copy). Fetches requests from the kernel, runs them against the store, and commits the
// results, until the device goes away (STOP_DEV) or the queue is asked to let go of it
// (request_exit: the kernel then quiesces the device and keeps its I/O for the next server).
#pragma once

#include "backing_reads.hpp"
#include "parked_writes.hpp"
#include "queue_ring.hpp"
#include "request_handler.hpp"
#include "trueno/latency_histogram.hpp"
#include "trueno/page_store.hpp"
#include "trueno/result.hpp"
#include "ublk_uapi.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <future>
#include <liburing.h>
#include <memory>
#include <span>
#include <thread>
#include <vector>

namespace trueno::ublk {

class SpareQueueThreads;

struct QueueConfig {
    unsigned queue_id = 0;
    unsigned depth = 128;
    std::size_t buffer_bytes = 0; // one request's buffer: the device's max_io_buf_bytes
    bool user_copy = false;       // UBLK_F_USER_COPY: data moves by pread/pwrite on the char fd
    bool encoded_opcodes = true;  // UBLK_F_CMD_IOCTL_ENCODE negotiated
    int char_fd = -1;             // /dev/ublkcN, owned by the device
    bool realtime = true;         // the thread runs at SCHED_FIFO 1 (service/realtime.hpp)
    std::chrono::milliseconds reserve_wait =
        kDefaultReserveWait; // a parked write's wait for memory
};

// Counters a test or the log can read while the queue runs.
struct QueueCounters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> errors{0};
    std::atomic<bool> serving{false}; // inside a request now (a stalled device: here or the kernel)
    // Writes set aside to wait for memory, and of those the ones that failed after waiting
    // reserve_wait (ENOSPC); parked_now: waiting at this moment.
    std::atomic<std::uint64_t> parked{0};
    std::atomic<std::uint64_t> parked_failed{0};
    std::atomic<std::uint64_t> parked_now{0};
};

class IoQueue {
public:
    // Maps the descriptors and allocates the buffers (resident before the first request).
    static Result<std::unique_ptr<IoQueue>> create(const QueueConfig& config, std::shared_ptr<PageStore> store);
    ~IoQueue();
    IoQueue(const IoQueue&) = delete;
    IoQueue& operator=(const IoQueue&) = delete;

    // Starts the thread, or takes one of `spares` (a standby's, ready with its ring). The result
    // is ready once every tag has a FETCH_REQ outstanding (then START_DEV may be sent) or the
    // queue failed to arm.
    std::future<Status> start(SpareQueueThreads* spares = nullptr);
    // Waits for the thread; it ends when the kernel aborts the fetches (STOP_DEV) or after
    // request_exit().
    void join();
    // Makes the thread commit what it has served and leave, closing its ring: the kernel
    // cancels its fetches and, for a device with UBLK_F_USER_RECOVERY, quiesces the device
    // (requests wait in the kernel until a new server recovers it).
    void request_exit();

    const QueueCounters& counters() const { return counters_; }

private:
    IoQueue(const QueueConfig& config, std::shared_ptr<PageStore> store);
    void run(std::promise<Status>& armed, QueueRing ring);
    bool queue_command(io_uring& ring, unsigned tag, bool fetch_only, int result);
    // Serves the request of `tag` from `resume_at` (a parked write's bytes_done) on, through
    // `buffer` (the tag's in copy mode; with user copy one the calling thread alone uses).
    Attempt serve(unsigned tag, std::uint64_t resume_at, std::byte* buffer);
    std::byte* tag_buffer(unsigned tag) const {
        return config_.user_copy ? buffers_ : buffers_ + tag * config_.buffer_bytes;
    }
    // A read of pages written back to the backing device goes to backing_reads_ (made at the
    // first one). False if it is not such a read, or the thread could not be started (then it
    // is served here).
    bool hand_off_read(io_uring& ring, unsigned tag, std::chrono::steady_clock::time_point arrived);
    // Commits the reads backing_reads_ finished and polls its eventfd again. Returns the tags
    // lost for want of an SQE.
    unsigned collect_backing_reads(io_uring& ring);
    void arm_backing_poll(io_uring& ring);
    void stop_backing_reads();
    // Commits the tag's result and counts it; false if no SQE was left (the tag is lost).
    bool complete(io_uring& ring, unsigned tag, int result);
    // A request the kernel delivered (arrived: the batch that brought it): served, or parked
    // if it is a write that finds no memory ready (or others wait already). False if its
    // commit found no SQE (the tag is lost).
    bool take(io_uring& ring, unsigned tag, std::chrono::steady_clock::time_point arrived);
    // Tries the parked writes again when due (parked_writes.hpp) and fails those whose wait is
    // over. Returns the tags lost for want of an SQE (see complete()).
    unsigned retry_parked(io_uring& ring);
    // Adds the requests served since the last call to the histograms, their time ending now:
    // called as their commits are submitted (a commit is only queued when a request is served).
    void record_submitted();
    void log_service_times() const;

    QueueConfig config_;
    std::shared_ptr<PageStore> store_;
    int exit_fd_ = -1; // eventfd: written by request_exit(), polled by the thread
    const ublksrv_io_desc* descriptors_ = nullptr;
    std::size_t descriptors_bytes_ = 0;
    std::byte* buffers_ = nullptr; // buffer_bytes per tag (copy mode) or one (user copy), locked
    std::size_t buffers_bytes_ = 0;
    std::thread thread_;
    QueueCounters counters_;
    std::vector<unsigned> batch_writes_;  // a batch's writes, served after its other requests
    ParkedWrites parked_;                 // capacity depth, made before serving
    std::unique_ptr<BackingReads> backing_reads_;
    std::unique_ptr<std::byte[]> backing_buffer_; // user copy: backing_reads_'s thread's buffer
    bool backing_reads_failed_ = false;           // could not start: such reads are served here
    std::vector<std::chrono::steady_clock::time_point> handed_off_; // per tag: its arrival
    // Time in the daemon, kept by this thread alone: reads and writes served at once (from the
    // batch that brought them to the submission of their commit, so waiting behind others and
    // for the batch's end counts), and parked writes from parking to the commit's queueing.
    // Logged when the queue ends.
    struct Served {
        std::chrono::steady_clock::time_point arrived;
        bool write;
    };
    std::vector<Served> served_; // served, commit not yet submitted (capacity depth, made ahead)
    LatencyHistogram read_times_;
    LatencyHistogram write_times_;
    LatencyHistogram parked_times_;
    LatencyHistogram backing_read_times_; // reads handed to backing_reads_, arrival to commit
    std::uint64_t failures_unlogged_ = 0; // parked writes failed since the last warning
    std::chrono::steady_clock::time_point last_failure_log_;
};

} // namespace trueno::ublk
