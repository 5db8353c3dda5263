#include "queue_ring.hpp"

#include <cerrno>
#include <utility>

namespace trueno::ublk {
namespace {

constexpr unsigned kDeferredFlags =
    IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;

} // namespace

QueueRing::QueueRing(unsigned entries) : entries_(entries) {
    rc_ = io_uring_queue_init(entries, &ring_, kDeferredFlags);
    if (rc_ == -EINVAL) {
        rc_ = io_uring_queue_init(entries, &ring_, 0);
        deferred_ = false;
    }
}

QueueRing::~QueueRing() {
    reset();
}

QueueRing::QueueRing(QueueRing&& other) noexcept
    : ring_(other.ring_), rc_(std::exchange(other.rc_, -EBADF)), deferred_(other.deferred_),
      entries_(other.entries_) {}

QueueRing& QueueRing::operator=(QueueRing&& other) noexcept {
    if (this != &other) {
        reset();
        ring_ = other.ring_;
        rc_ = std::exchange(other.rc_, -EBADF);
        deferred_ = other.deferred_;
        entries_ = other.entries_;
    }
    return *this;
}

void QueueRing::reset() {
    if (rc_ == 0)
        io_uring_queue_exit(&ring_);
    rc_ = -EBADF;
}

} // namespace trueno::ublk
