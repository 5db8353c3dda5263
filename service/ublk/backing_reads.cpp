#include "backing_reads.hpp"

#include "io_flusher.hpp"
#include "stack_prefault.hpp"
#include "trueno/thread_name.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace trueno::ublk {

Result<std::unique_ptr<BackingReads>> BackingReads::create(unsigned depth, std::string name,
                                                           Serve serve) {
    std::unique_ptr<BackingReads> reads(new BackingReads(depth, std::move(serve)));
    reads->event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (reads->event_fd_ < 0) {
        const int err = errno;
        return make_error(err, "eventfd for " + name + ": " + std::strerror(err));
    }
    try {
        reads->thread_ = std::thread([r = reads.get(), name] { r->run(name); });
    } catch (const std::system_error& error) {
        return make_error(error.code().value(), "starting " + name + ": " + error.what());
    }
    return reads;
}

BackingReads::BackingReads(unsigned depth, Serve serve) : serve_(std::move(serve)) {
    waiting_.resize(depth);
    finished_.reserve(depth);
    collecting_.reserve(depth);
}

BackingReads::~BackingReads() {
    stop();
    if (event_fd_ >= 0)
        close(event_fd_);
}

void BackingReads::hand_off(unsigned tag) {
    {
        std::lock_guard guard(lock_);
        waiting_[(first_waiting_ + waiting_count_) % waiting_.size()] = tag;
        ++waiting_count_;
        ++outstanding_;
    }
    wake_.notify_one();
}

std::size_t BackingReads::in_flight() const {
    std::lock_guard guard(lock_);
    return outstanding_;
}

void BackingReads::stop() {
    {
        std::lock_guard guard(lock_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable())
        thread_.join();
}

void BackingReads::clear_event() {
    std::uint64_t count = 0;
    (void)!read(event_fd_, &count, sizeof count);
}

void BackingReads::run(const std::string& name) {
    name_this_thread(name);
    prefault_stack();
    // It serves swap-ins: its allocations must not wait for swap I/O.
    service::become_io_flusher(name);
    std::unique_lock guard(lock_);
    for (;;) {
        wake_.wait(guard, [&] { return stopping_ || waiting_count_ > 0; });
        if (stopping_)
            break;
        const unsigned tag = waiting_[first_waiting_];
        first_waiting_ = (first_waiting_ + 1) % waiting_.size();
        --waiting_count_;
        guard.unlock();
        int result = -EIO;
        try {
            result = serve_(tag);
        } catch (const std::exception& error) {
            spdlog::error("{}: a read failed: {}", name, error.what());
        } catch (...) {
            spdlog::error("{}: a read failed", name);
        }
        guard.lock();
        finished_.push_back({tag, result});
        const std::uint64_t one = 1;
        (void)!write(event_fd_, &one, sizeof one);
    }
    // Not started: the tags stay uncommitted, the kernel keeps their requests.
    outstanding_ -= waiting_count_;
    waiting_count_ = 0;
}

} // namespace trueno::ublk
