// One ublk request -> page store operations. Pure logic over a descriptor and a data buffer, so
// it is testable without a kernel: the queue moves the data in and out of the buffer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>

#include "trueno/page_store.hpp"

namespace trueno::ublk {

// How long one write may wait, in all, for the store's refill thread when its populated reserve
// ran dry (the I/O path never faults for memory, see StoreConfig::never_fault_on_io). Without
// memory pressure the refiller catches up within a few ms (tens on an emulated CPU). Under
// pressure it may be in reclaim itself, held up to a second at a time by the kernel's reclaim
// throttle: waiting is still right, since failing (the kernel keeps the page and writes it
// again) frees no memory and makes write errors (measured in the VM; the README, "Swap under
// memory pressure"). The queue parks such a write and serves other requests meanwhile, so the
// wait costs the rest of the device nothing (trueno-zramd --reserve-wait).
constexpr std::chrono::milliseconds kDefaultReserveWait{2000};

// The fields of the kernel's struct ublksrv_io_desc the handler needs.
struct Request {
    std::uint8_t op = 0;          // UBLK_IO_OP_*
    std::uint32_t flags = 0;      // UBLK_IO_F_*
    std::uint32_t nr_sectors = 0; // 512-byte sectors
    std::uint64_t start_sector = 0;

    std::uint64_t offset() const { return start_sector * 512; }
    std::uint64_t length() const { return std::uint64_t{nr_sectors} * 512; }
};

// One attempt at a request, never waiting for memory. `buffer` holds WRITE data on entry and
// receives READ data; it must be at least length() bytes for READ/WRITE.
// A WRITE stores its pages in order; one that finds the store's populated reserve empty (ENOMEM
// below its memory limit), or the limit reached while the store's limit_waits() (the writeback
// policy is making room), stops there and reports needs_memory with the bytes stored before
// that page. The caller tries again later (after the refiller has published memory) with
// `resume_at` = bytes_done and the same buffer: only the rest is written. On any other outcome
// `result` is what COMMIT_AND_FETCH_REQ reports: bytes transferred for READ/WRITE, 0 for
// FLUSH/DISCARD/WRITE_ZEROES, or a negative errno (-EINVAL out of range or too long, -ENOSPC
// past the memory limit, -EIO failed decompression, -EOPNOTSUPP unknown op).
// Idempotent: running a request twice leaves the store as running it once (a write stores the
// same bytes, a discard frees the same range). The kernel relies on it: with
// UBLK_F_USER_RECOVERY_REISSUE it gives the next server every request the dead one had taken
// but not answered, which that one may have applied in full or in part.
struct Attempt {
    int result = 0;
    bool needs_memory = false; // a WRITE stopped at a page that found no memory ready
    std::uint64_t bytes_done =
        0; // of that WRITE: bytes stored from its start (whole pages or the head)
};
Attempt attempt_request(const Request& request, std::span<std::byte> buffer, PageStore& store,
                        std::uint64_t resume_at = 0);

// The same, waiting in place: a WRITE that needs memory is tried again every few hundred
// microseconds until it succeeds or `reserve_wait` has passed (then -ENOSPC). For callers
// without a queue to park requests on (tests, tools).
int handle_request(const Request& request, std::span<std::byte> buffer, PageStore& store,
                   std::chrono::milliseconds reserve_wait = kDefaultReserveWait);

// Frees [offset, offset + length): whole pages are discarded, partial edges zeroed.
Status zero_range(PageStore& store, std::uint64_t offset, std::uint64_t length);

} // namespace trueno::ublk
