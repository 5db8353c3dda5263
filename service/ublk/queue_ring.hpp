// A queue thread's io_uring: made by the thread that will submit to it and reap it (the ring is
// single-issuer), torn down when that thread is done with it, which also cancels anything
// outstanding. Completions are deferred until the thread asks for them (DEFER_TASKRUN, as the
// kernel's ublk selftest server sets it up); a kernel that refuses those flags (before 6.1) gets
// a plain ring.
#pragma once

#include <liburing.h>

namespace trueno::ublk {

// A queue's ring holds every tag's command, the poll of its exit eventfd and the poll of its
// backing reads' eventfd (backing_reads.hpp).
constexpr unsigned queue_ring_entries(unsigned depth) {
    return depth + 2;
}

class QueueRing {
public:
    QueueRing() = default; // no ring: status() is -EBADF
    explicit QueueRing(unsigned entries);
    ~QueueRing();
    QueueRing(QueueRing&& other) noexcept;
    QueueRing& operator=(QueueRing&& other) noexcept;
    QueueRing(const QueueRing&) = delete;
    QueueRing& operator=(const QueueRing&) = delete;

    int status() const { return rc_; } // 0, or io_uring_queue_init's negative errno
    bool deferred() const { return deferred_; }
    unsigned entries() const { return entries_; } // as asked for
    io_uring& get() { return ring_; }

private:
    void reset();

    io_uring ring_{};
    int rc_ = -9; // -EBADF
    bool deferred_ = true;
    unsigned entries_ = 0;
};

} // namespace trueno::ublk
