#include "io_queue.hpp"

#include "io_flusher.hpp"
#include "realtime.hpp"
#include "request_handler.hpp"
#include "spare_queue_threads.hpp"
#include "stack_prefault.hpp"
#include "trueno/thread_name.hpp"

#include <cerrno>
#include <cstring>
#include <new>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

namespace trueno::ublk {
namespace {

std::size_t round_up_to_page(std::size_t n)
{
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    return (n + page - 1) / page * page;
}

// Moves exactly `length` bytes between a tag's buffer and the request (user copy); false on a
// short or failed transfer.
template <typename Fn> bool transfer_all(Fn&& fn, std::byte* data, std::size_t length, std::uint64_t offset)
{
    std::size_t done = 0;
    while (done < length) {
        const ssize_t n = fn(data + done, length - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += static_cast<std::size_t>(n);
    }
    return true;
}

// The poll on the exit eventfd; tags are below UBLK_MAX_QUEUE_DEPTH. Not ~0: that is
// liburing's own timeout marker (LIBURING_UDATA_TIMEOUT) on kernels without timed waits.
constexpr std::uint64_t kExitTag = ~std::uint64_t{0} - 1;
// The poll on backing_reads_'s eventfd.
constexpr std::uint64_t kBackingReadsTag = ~std::uint64_t{0} - 2;

// While writes are parked the thread wakes this often to look whether they are due for another
// try (parked_writes.hpp) or past their wait.
constexpr auto kParkedPoll = std::chrono::milliseconds(1);
// A queue says at most this often that writes failed after their wait.
constexpr auto kFailureLogPeriod = std::chrono::seconds(2);

} // namespace

Result<std::unique_ptr<IoQueue>> IoQueue::create(const QueueConfig& config, std::shared_ptr<PageStore> store)
{
    if (config.depth == 0 || config.depth > UBLK_MAX_QUEUE_DEPTH || config.buffer_bytes == 0)
        return make_error(EINVAL, "queue depth must be 1..4096 and the buffer size non-zero");
    std::unique_ptr<IoQueue> queue(new IoQueue(config, std::move(store)));
    queue->exit_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (queue->exit_fd_ < 0) {
        const int err = errno;
        return make_error(err, std::string("eventfd for queue ") + std::to_string(config.queue_id) + ": " +
                                   std::strerror(err));
    }

    queue->descriptors_bytes_ = round_up_to_page(config.depth * sizeof(ublksrv_io_desc));
    const auto offset = static_cast<off_t>(config.queue_id * round_up_to_page(kMaxDescriptorBytes));
    void* map = mmap(nullptr, queue->descriptors_bytes_, PROT_READ, MAP_SHARED | MAP_POPULATE,
                     config.char_fd, offset);
    if (map == MAP_FAILED) {
        const int err = errno;
        return make_error(err, "mmap of queue " + std::to_string(config.queue_id) +
                                   " descriptors: " + std::strerror(err));
    }
    queue->descriptors_ = static_cast<const ublksrv_io_desc*>(map);

    // The buffers are allocated and locked now: a request must never wait on a page fault
    // that itself needs swap. Copy mode: the kernel fills each tag's buffer while the request
    // is queued, so every tag has one. User copy: this thread moves the data itself while it
    // serves one request at a time, so one buffer serves every tag (a depth-128 queue locks
    // 64 KiB instead of 8 MiB).
    queue->buffers_bytes_ = (config.user_copy ? 1 : config.depth) * config.buffer_bytes;
    void* buffers = mmap(nullptr, queue->buffers_bytes_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buffers == MAP_FAILED) {
        const int err = errno;
        return make_error(err, "allocating " + std::to_string(queue->buffers_bytes_) +
                                   " bytes of I/O buffers: " + std::strerror(err));
    }
    queue->buffers_ = static_cast<std::byte*>(buffers);
    if (mlock(buffers, queue->buffers_bytes_) != 0)
        spdlog::warn("queue {}: mlock of I/O buffers failed ({}): they could be swapped out",
                     config.queue_id, std::strerror(errno));
    return queue;
}

IoQueue::IoQueue(const QueueConfig& config, std::shared_ptr<PageStore> store)
    : config_(config), store_(std::move(store)), parked_(config.depth) {}

IoQueue::~IoQueue()
{
    join();
    stop_backing_reads(); // its thread may still write to a tag's buffer
    if (exit_fd_ >= 0)
        close(exit_fd_);
    if (buffers_)
        munmap(buffers_, buffers_bytes_);
    if (descriptors_)
        munmap(const_cast<ublksrv_io_desc*>(descriptors_), descriptors_bytes_);
}

std::future<Status> IoQueue::start(SpareQueueThreads* spares) {
    auto armed = std::make_shared<std::promise<Status>>();
    auto future = armed->get_future();
    const unsigned entries = queue_ring_entries(config_.depth);
    if (spares) {
        SpareQueueThreads::Job job = [this, armed](QueueRing ring) {
            run(*armed, std::move(ring));
        };
        if (auto thread = spares->run(entries, job)) {
            thread_ = std::move(*thread);
            return future;
        }
    }
    thread_ = std::thread([this, armed] { run(*armed, QueueRing()); });
    return future;
}

void IoQueue::join()
{
    if (thread_.joinable())
        thread_.join();
}

void IoQueue::request_exit()
{
    const std::uint64_t one = 1;
    (void)!write(exit_fd_, &one, sizeof one);
}

bool IoQueue::queue_command(io_uring& ring, unsigned tag, bool fetch_only, int result)
{
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (!sqe) { // the ring has depth entries, one per tag: only reached if the CQ overflowed
        io_uring_submit(&ring);
        sqe = io_uring_get_sqe(&ring);
        if (!sqe)
            return false;
    }
    io_uring_prep_rw(IORING_OP_URING_CMD, sqe, config_.char_fd, nullptr, 0, 0);
    if (config_.encoded_opcodes)
        sqe->cmd_op = fetch_only ? UBLK_U_IO_FETCH_REQ : UBLK_U_IO_COMMIT_AND_FETCH_REQ;
    else
        sqe->cmd_op = fetch_only ? UBLK_IO_FETCH_REQ : UBLK_IO_COMMIT_AND_FETCH_REQ;
    sqe->user_data = tag;
    ublksrv_io_cmd cmd{};
    cmd.q_id = static_cast<std::uint16_t>(config_.queue_id);
    cmd.tag = static_cast<std::uint16_t>(tag);
    cmd.result = result;
    // Copy mode: the kernel copies data to/from this tag's buffer. User copy: no buffer here.
    cmd.addr = config_.user_copy ? 0 : reinterpret_cast<std::uintptr_t>(buffers_ + tag * config_.buffer_bytes);
    std::memcpy(reinterpret_cast<std::byte*>(sqe) + offsetof(io_uring_sqe, cmd), &cmd, sizeof(cmd));
    return true;
}

Attempt IoQueue::serve(unsigned tag, std::uint64_t resume_at, std::byte* buffer) {
    const ublksrv_io_desc desc = descriptors_[tag];
    Request request;
    request.op = static_cast<std::uint8_t>(desc.op_flags & 0xff);
    request.flags = desc.op_flags >> 8;
    request.nr_sectors = desc.nr_sectors;
    request.start_sector = desc.start_sector;
    const std::uint64_t length = request.length();
    const std::uint64_t uc_offset = user_copy_offset(config_.queue_id, tag);

    if (config_.user_copy && request.op == UBLK_IO_OP_WRITE) {
        if (length > config_.buffer_bytes || resume_at > length)
            return {-EINVAL};
        // The queue's one buffer served others since a parked write last ran: fetch what is
        // left of its data again (the kernel holds it until the tag is committed).
        auto read_fn = [fd = config_.char_fd](std::byte* d, std::size_t n, off_t o) { return pread(fd, d, n, o); };
        if (!transfer_all(read_fn, buffer + resume_at, length - resume_at, uc_offset + resume_at)) {
            spdlog::error("queue {}: copying a write's data from the kernel failed: {}", config_.queue_id,
                          std::strerror(errno));
            return {-EIO};
        }
    }
    Attempt attempt{-EIO};
    try {
        attempt =
            attempt_request(request, std::span(buffer, config_.buffer_bytes), *store_, resume_at);
    } catch (const std::bad_alloc&) {
        attempt = {-ENOMEM}; // the kernel keeps the page and tries again
    } catch (const std::exception& error) {
        spdlog::error("queue {}: a request failed: {}", config_.queue_id, error.what());
        attempt = {-EIO}; // this request fails; the queue serves on
    } catch (...) {
        attempt = {-EIO}; // this request fails; the queue serves on
    }
    if (config_.user_copy && request.op == UBLK_IO_OP_READ && attempt.result > 0) {
        auto write_fn = [fd = config_.char_fd](std::byte* d, std::size_t n, off_t o) { return pwrite(fd, d, n, o); };
        if (!transfer_all(write_fn, buffer, static_cast<std::size_t>(attempt.result), uc_offset)) {
            spdlog::error("queue {}: copying a read's data to the kernel failed: {}", config_.queue_id,
                          std::strerror(errno));
            attempt.result = -EIO;
        }
    }
    return attempt;
}

bool IoQueue::complete(io_uring& ring, unsigned tag, int result) {
    counters_.requests.fetch_add(1, std::memory_order_relaxed);
    if (result < 0)
        counters_.errors.fetch_add(1, std::memory_order_relaxed);
    if (queue_command(ring, tag, false, result))
        return true;
    spdlog::error("queue {}: no SQE to commit tag {}", config_.queue_id, tag);
    return false;
}

bool IoQueue::take(io_uring& ring, unsigned tag, std::chrono::steady_clock::time_point arrived) {
    const auto op = static_cast<std::uint8_t>(descriptors_[tag].op_flags & 0xff);
    const bool write = op == UBLK_IO_OP_WRITE;
    const auto deadline = arrived + config_.reserve_wait;
    if (write && !parked_.empty()) {
        // Behind writes that wait for memory: in line after them, untried.
        parked_.park({tag, 0, deadline}, store_->reserve_progress(),
                     std::chrono::steady_clock::now());
        counters_.parked.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    if (op == UBLK_IO_OP_READ && hand_off_read(ring, tag, arrived))
        return true;
    const std::uint64_t progress = store_->reserve_progress(); // before the try
    counters_.serving.store(true, std::memory_order_relaxed);
    const Attempt attempt = serve(tag, 0, tag_buffer(tag));
    counters_.serving.store(false, std::memory_order_relaxed);
    if (attempt.needs_memory) {
        parked_.park({tag, attempt.bytes_done, deadline}, progress,
                     std::chrono::steady_clock::now());
        counters_.parked.fetch_add(1, std::memory_order_relaxed);
        return true;
    }
    if (op == UBLK_IO_OP_READ || write)
        served_.push_back({arrived, write});
    return complete(ring, tag, attempt.result);
}

bool IoQueue::hand_off_read(io_uring& ring, unsigned tag,
                            std::chrono::steady_clock::time_point arrived) {
    const ublksrv_io_desc& desc = descriptors_[tag];
    if (backing_reads_failed_ || !store_->reads_backing_device(
                                     desc.start_sector * 512, std::uint64_t{desc.nr_sectors} * 512))
        return false;
    if (!backing_reads_) {
        // Made at the first read of a written-back page: a device without a backing device
        // pays no thread and no buffer for it.
        const std::string name = "tz-bdread-" + std::to_string(config_.queue_id);
        try {
            handed_off_.resize(config_.depth);
            if (config_.user_copy) {
                backing_buffer_ = std::make_unique_for_overwrite<std::byte[]>(config_.buffer_bytes);
                if (mlock(backing_buffer_.get(), config_.buffer_bytes) != 0)
                    spdlog::warn("queue {}: mlock of the backing reads' buffer failed ({})",
                                 config_.queue_id, std::strerror(errno));
            }
            std::byte* buffer = backing_buffer_.get();
            auto reads = BackingReads::create(config_.depth, name, [this, buffer](unsigned t) {
                return serve(t, 0, buffer ? buffer : tag_buffer(t)).result;
            });
            if (!reads)
                throw std::runtime_error(reads.error().message);
            backing_reads_ = std::move(*reads);
        } catch (const std::exception& error) {
            spdlog::error("queue {}: reads from the backing device are served on the queue's "
                          "thread (they hold up its other requests): {}",
                          config_.queue_id, error.what());
            backing_reads_failed_ = true;
            backing_buffer_.reset();
            return false;
        }
        arm_backing_poll(ring);
    }
    handed_off_[tag] = arrived;
    backing_reads_->hand_off(tag);
    return true;
}

void IoQueue::arm_backing_poll(io_uring& ring) {
    io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    if (!sqe) {
        io_uring_submit(&ring);
        sqe = io_uring_get_sqe(&ring);
    }
    if (!sqe) { // not reached: the ring has an entry for this poll
        spdlog::error("queue {}: no SQE to poll the backing reads", config_.queue_id);
        return;
    }
    io_uring_prep_poll_add(sqe, backing_reads_->event_fd(), POLLIN);
    io_uring_sqe_set_data64(sqe, kBackingReadsTag);
}

unsigned IoQueue::collect_backing_reads(io_uring& ring) {
    unsigned lost = 0;
    const auto now = std::chrono::steady_clock::now();
    backing_reads_->collect([&](unsigned tag, int result) {
        backing_read_times_.add(static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now - handed_off_[tag]).count()));
        if (!complete(ring, tag, result))
            ++lost;
    });
    return lost;
}

void IoQueue::stop_backing_reads() {
    if (backing_reads_)
        backing_reads_->stop();
}

unsigned IoQueue::retry_parked(io_uring& ring) {
    unsigned lost = 0;
    auto finish = [&](const ParkedWrites::Write& write, int result) {
        const auto parked_at = write.deadline - config_.reserve_wait;
        parked_times_.add(
            static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           std::chrono::steady_clock::now() - parked_at)
                                           .count()));
        if (!complete(ring, write.tag, result))
            ++lost;
    };
    const std::uint64_t progress = store_->reserve_progress();
    const auto now = std::chrono::steady_clock::now();
    std::size_t failed = 0; // past their wait
    if (parked_.due(progress, now)) {
        counters_.serving.store(true, std::memory_order_relaxed);
        failed = parked_.retry(
            progress,
            [&](const ParkedWrites::Write& write) {
                return serve(write.tag, write.bytes_done, tag_buffer(write.tag));
            },
            finish, [] { return std::chrono::steady_clock::now(); });
        counters_.serving.store(false, std::memory_order_relaxed);
    } else {
        failed = parked_.expire(now, finish);
    }
    if (failed > 0) {
        // Past its wait a write fails: the kernel keeps the page, logs the error, writes it again.
        counters_.parked_failed.fetch_add(failed, std::memory_order_relaxed);
        failures_unlogged_ += failed;
        if (now - last_failure_log_ >= kFailureLogPeriod) {
            spdlog::warn("queue {}: {} write(s) failed (ENOSPC) after waiting {} ms for the "
                         "store's refiller to "
                         "populate memory; {} still wait",
                         config_.queue_id, failures_unlogged_, config_.reserve_wait.count(),
                         parked_.size());
            failures_unlogged_ = 0;
            last_failure_log_ = now;
        }
    }
    counters_.parked_now.store(parked_.size(), std::memory_order_relaxed);
    return lost;
}

void IoQueue::run(std::promise<Status>& armed, QueueRing ring) {
    name_this_thread("tz-queue-" + std::to_string(config_.queue_id));
    prefault_stack();
    // Allocations on this thread must not recurse into swap I/O served by this very thread.
    service::become_io_flusher("queue " + std::to_string(config_.queue_id));
    if (config_.realtime)
        service::become_realtime("queue " + std::to_string(config_.queue_id));
    // A spare thread brings its ring, made ahead (spare_queue_threads.hpp says why).
    if (ring.status() != 0 || ring.entries() != queue_ring_entries(config_.depth))
        ring = QueueRing(queue_ring_entries(config_.depth));
    if (ring.status() < 0) {
        armed.set_value(make_error(-ring.status(), "io_uring_queue_init for queue " +
                                                       std::to_string(config_.queue_id) + ": " +
                                                       std::strerror(-ring.status())));
        return;
    }
    if (!ring.deferred())
        spdlog::warn("queue {}: the kernel refused a deferred-completion ring (Linux 6.1 or later): "
                     "each request interrupts this thread",
                     config_.queue_id);
    for (unsigned tag = 0; tag < config_.depth; ++tag)
        queue_command(ring.get(), tag, true, 0);
    io_uring_sqe* poll = io_uring_get_sqe(&ring.get());
    io_uring_prep_poll_add(poll, exit_fd_, POLLIN);
    io_uring_sqe_set_data64(poll, kExitTag);
    if (int rc = io_uring_submit(&ring.get()); rc < 0 || static_cast<unsigned>(rc) != config_.depth + 1) {
        armed.set_value(make_error(rc < 0 ? -rc : EIO, "submitting FETCH_REQ for queue " +
                                                          std::to_string(config_.queue_id)));
        return;
    }
    // A fetch the kernel refuses completes at once; accepted ones stay outstanding.
    io_uring_cqe* early = nullptr;
    if (io_uring_peek_cqe(&ring.get(), &early) == 0 && early && early->res < 0) {
        armed.set_value(make_error(-early->res, std::string("FETCH_REQ refused: ") + std::strerror(-early->res)));
        return;
    }
    batch_writes_.reserve(config_.depth); // made now: serving allocates nothing
    served_.reserve(config_.depth);
    armed.set_value(Status{});

    // Tags still in use: a command outstanding in the kernel, or a write parked here.
    unsigned active = config_.depth;
    bool exiting = false;
    while (active > 0 && !exiting) {
        int rc = 0;
        record_submitted(); // the commits queued by the last batch go in now
        if (parked_.empty()) {
            rc = io_uring_submit_and_wait(&ring.get(), 1);
        } else {
            __kernel_timespec poll_wait{};
            poll_wait.tv_nsec = std::chrono::nanoseconds(kParkedPoll).count();
            io_uring_cqe* first = nullptr;
            rc = io_uring_submit_and_wait_timeout(&ring.get(), &first, 1, &poll_wait, nullptr);
            if (rc == -ETIME)
                rc = 0;
        }
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
            spdlog::error("queue {}: io_uring_submit_and_wait: {}", config_.queue_id, std::strerror(-rc));
            break;
        }
        io_uring_cqe* cqe = nullptr;
        unsigned head = 0;
        unsigned seen = 0;
        bool backing_ready = false;
        // Every request of this batch arrived now: its time in the daemon includes waiting here
        // behind the ones served before it (reads behind a write's compression).
        const auto reaped = std::chrono::steady_clock::now();
        io_uring_for_each_cqe(&ring.get(), head, cqe)
        {
            ++seen;
            if (cqe->user_data == kExitTag) {
                exiting = true;
                continue;
            }
            if (cqe->user_data == kBackingReadsTag) {
                backing_ready = true;
                continue;
            }
            const auto tag = static_cast<unsigned>(cqe->user_data);
            const int res = cqe->res;
            if (res == UBLK_IO_RES_OK && tag < config_.depth) {
                // Writes after the batch's other requests. Every commit of the batch is
                // submitted at its end, so a swap-in's completion still waits for the batch's
                // writes; committing reads at once was measured no better (README, "Swap-ins").
                if ((descriptors_[tag].op_flags & 0xff) == UBLK_IO_OP_WRITE)
                    batch_writes_.push_back(tag);
                else if (!take(ring.get(), tag, reaped))
                    --active;
            } else {
                if (res != UBLK_IO_RES_ABORT)
                    spdlog::error("queue {} tag {}: fetch completed with {}", config_.queue_id, tag,
                                  res < 0 ? std::strerror(-res) : std::to_string(res));
                --active; // the device is going away (or the tag is unusable): do not re-arm
            }
        }
        io_uring_cq_advance(&ring.get(), seen);
        for (const unsigned tag : batch_writes_)
            if (!take(ring.get(), tag, reaped))
                --active;
        batch_writes_.clear();
        if (backing_ready && !exiting) {
            active -= collect_backing_reads(ring.get());
            arm_backing_poll(ring.get());
        }
        if (!parked_.empty() && !exiting)
            active -= retry_parked(ring.get());
    }
    if (exiting && active > 0) {
        // Commit what was served in the last batch; the ring's exit then cancels the fetches.
        // Parked writes stay uncommitted: the kernel gives them to the next server, and so do
        // reads handed to the backing reads' thread that it had not started.
        if (backing_reads_) {
            stop_backing_reads();
            collect_backing_reads(ring.get());
        }
        io_uring_submit(&ring.get());
        record_submitted();
        log_service_times();
        spdlog::debug(
            "queue {}: leaving the device to the next server after {} requests ({} parked writes "
            "with it)",
            config_.queue_id, counters_.requests.load(), parked_.size());
        return;
    }
    stop_backing_reads();
    spdlog::debug("queue {}: stopped after {} requests", config_.queue_id, counters_.requests.load());
    log_service_times();
}

void IoQueue::record_submitted() {
    const auto now = std::chrono::steady_clock::now();
    for (const Served& served : served_)
        (served.write ? write_times_ : read_times_)
            .add(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(now - served.arrived)
                    .count()));
    served_.clear();
}

void IoQueue::log_service_times() const {
    if (backing_read_times_.count() > 0)
        spdlog::info("queue {}: {} reads from the backing device, arrival to commit p50 {:.0f} "
                     "p99 {:.0f} max {:.0f} us",
                     config_.queue_id, backing_read_times_.count(),
                     backing_read_times_.quantile_us(0.5), backing_read_times_.quantile_us(0.99),
                     backing_read_times_.max_us());
    if (read_times_.count() + write_times_.count() + parked_times_.count() == 0)
        return;
    spdlog::info(
        "queue {}: time in the daemon: {} reads p50 {:.0f} p99 {:.0f} max {:.0f} us; {} writes p50 "
        "{:.0f} p99 {:.0f} max {:.0f} us; {} writes waited for memory p50 {:.0f} p99 {:.0f} max "
        "{:.0f} us",
        config_.queue_id, read_times_.count(), read_times_.quantile_us(0.5),
        read_times_.quantile_us(0.99), read_times_.max_us(), write_times_.count(),
        write_times_.quantile_us(0.5), write_times_.quantile_us(0.99), write_times_.max_us(),
        parked_times_.count(), parked_times_.quantile_us(0.5), parked_times_.quantile_us(0.99),
        parked_times_.max_us());
}

} // namespace trueno::ublk
