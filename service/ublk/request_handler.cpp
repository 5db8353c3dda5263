#include "request_handler.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <climits>
#include <thread>

#include "ublk_uapi.hpp"

namespace trueno::ublk {
namespace {

// Zeros for partial-page edges of DISCARD/WRITE_ZEROES: constant, so no allocation on the I/O path.
constexpr std::array<std::byte, kPageSize> kZeroPage{};

// The store speaks positive errno; the kernel wants a negative one. A full store (ENOMEM) is
// reported as ENOSPC so the block layer fails the write instead of treating it as a retryable
// resource shortage.
int to_result(const Error& error)
{
    int code = error.code > 0 ? error.code : EIO;
    if (code == ENOMEM)
        code = ENOSPC;
    return -code;
}

constexpr auto kReserveRetryPause = std::chrono::microseconds(200);

bool below_memory_limit(const PageStore& store)
{
    const MmStat s = store.mm_stat();
    return s.mem_limit == 0 || s.mem_used_total + kPageSize <= s.mem_limit;
}

// Writes page by page from `done`, so that a retry repeats only the page that found no memory.
Attempt write_from(PageStore& store, std::uint64_t offset, std::span<const std::byte> data,
                   std::uint64_t done) {
    while (done < data.size()) {
        const std::uint64_t position = offset + done;
        const std::size_t n = static_cast<std::size_t>(
            std::min<std::uint64_t>(kPageSize - position % kPageSize, data.size() - done));
        if (Status st =
                store.write_bytes(position, data.subspan(static_cast<std::size_t>(done), n));
            !st) {
            // Below the limit the refiller is behind; at it, a writeback may be making room.
            if (st.error().code == ENOMEM && (below_memory_limit(store) || store.limit_waits()))
                return {0, true, done};
            return {to_result(st.error()), false, done};
        }
        done += n;
    }
    return {static_cast<int>(data.size()), false, done};
}

} // namespace

Status zero_range(PageStore& store, std::uint64_t offset, std::uint64_t length)
{
    const std::uint64_t end = offset + length;
    if (end < offset || end > store.disksize())
        return make_error(EINVAL, "range past the end of the device");
    const std::uint64_t first_full = (offset + kPageSize - 1) / kPageSize;
    const std::uint64_t end_full = end / kPageSize;
    if (first_full >= end_full) { // inside one page, or straddling two without a whole one
        for (std::uint64_t pos = offset; pos < end;) {
            const std::uint64_t page_end = (pos / kPageSize + 1) * kPageSize;
            const std::uint64_t n = std::min(end, page_end) - pos;
            if (auto st = store.write_bytes(pos, std::span(kZeroPage).first(n)); !st)
                return st;
            pos += n;
        }
        return {};
    }
    if (const std::uint64_t head = first_full * kPageSize - offset; head > 0)
        if (auto st = store.write_bytes(offset, std::span(kZeroPage).first(head)); !st)
            return st;
    store.discard(first_full, end_full - first_full);
    if (const std::uint64_t tail = end - end_full * kPageSize; tail > 0)
        if (auto st = store.write_bytes(end_full * kPageSize, std::span(kZeroPage).first(tail)); !st)
            return st;
    return {};
}

Attempt attempt_request(const Request& request, std::span<std::byte> buffer, PageStore& store,
                        std::uint64_t resume_at) {
    const std::uint64_t offset = request.offset();
    const std::uint64_t length = request.length();
    if (offset + length < offset || offset + length > store.disksize())
        return {-EINVAL};

    switch (request.op) {
    case UBLK_IO_OP_READ:
    case UBLK_IO_OP_WRITE: {
        if (length > buffer.size() || length > static_cast<std::uint64_t>(INT_MAX))
            return {-EINVAL};
        const auto data = buffer.first(static_cast<std::size_t>(length));
        if (request.op == UBLK_IO_OP_WRITE)
            return resume_at > length ? Attempt{-EINVAL}
                                      : write_from(store, offset, data, resume_at);
        const Status st = store.read_bytes(offset, data);
        return {st ? static_cast<int>(length) : to_result(st.error())};
    }
    case UBLK_IO_OP_FLUSH:
        return {0}; // nothing is cached between the store and the kernel
    case UBLK_IO_OP_DISCARD:
    case UBLK_IO_OP_WRITE_ZEROES: {
        const Status st = zero_range(store, offset, length);
        return {st ? 0 : to_result(st.error())};
    }
    default:
        return {-EOPNOTSUPP};
    }
}

int handle_request(const Request& request, std::span<std::byte> buffer, PageStore& store,
                   std::chrono::milliseconds reserve_wait) {
    const auto deadline = std::chrono::steady_clock::now() + reserve_wait;
    Attempt attempt = attempt_request(request, buffer, store);
    while (attempt.needs_memory && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(kReserveRetryPause);
        attempt = attempt_request(request, buffer, store, attempt.bytes_done);
    }
    return attempt.needs_memory ? -ENOSPC : attempt.result;
}

} // namespace trueno::ublk
