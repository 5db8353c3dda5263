// A PageStore double for request-handler tests: bytes in a vector, every discard and write
// recorded, failures injectable (for a number of writes, or all) and mm_stat set by the test,
// so each test can assert exactly which store operations a request caused.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "trueno/page_store.hpp"

namespace trueno::test {

class RecordingPageStore final : public PageStore {
public:
    explicit RecordingPageStore(std::uint64_t pages) : data_(pages * kPageSize), name_("test") {}

    std::vector<std::pair<std::uint64_t, std::uint64_t>> discards; // (first, count)
    std::vector<std::pair<std::uint64_t, std::uint64_t>> byte_writes; // (offset, length) stored
    std::size_t write_attempts = 0;        // write_bytes calls, failed ones included
    std::optional<int> fail_writes_with;   // errno for the writes below
    std::size_t failing_writes = SIZE_MAX; // how many writes fail_writes_with fails, then none
    std::size_t passing_writes = 0;        // writes that succeed before fail_writes_with applies
    std::optional<int> fail_reads_with;
    MmStat stat; // what mm_stat() reports (mem_limit 0: no limit)
    bool waits_at_limit = false; // limit_waits()

    std::span<std::byte> raw() { return data_; }

    std::uint64_t page_count() const override { return data_.size() / kPageSize; }
    std::uint64_t disksize() const override { return data_.size(); }
    const std::string& algorithm() const override { return name_; }
    const CodecParams& params() const override { return params_; }
    unsigned streams() const override { return 1; }

    Status write_page(std::uint64_t index, PageView page) override
    {
        return write_bytes(index * kPageSize, page);
    }
    Status read_page(std::uint64_t index, MutablePageView out) override
    {
        return read_bytes(index * kPageSize, out);
    }
    Status write_bytes(std::uint64_t offset, std::span<const std::byte> in) override
    {
        ++write_attempts;
        if (passing_writes > 0) {
            --passing_writes;
        } else if (fail_writes_with && failing_writes > 0) {
            --failing_writes;
            return make_error(*fail_writes_with, "injected");
        }
        if (offset + in.size() > data_.size())
            return make_error(EINVAL, "out of range");
        byte_writes.emplace_back(offset, in.size());
        std::memcpy(data_.data() + offset, in.data(), in.size());
        return {};
    }
    Status read_bytes(std::uint64_t offset, std::span<std::byte> out) override
    {
        if (fail_reads_with)
            return make_error(*fail_reads_with, "injected");
        if (offset + out.size() > data_.size())
            return make_error(EINVAL, "out of range");
        std::memcpy(out.data(), data_.data() + offset, out.size());
        return {};
    }
    void discard(std::uint64_t first, std::uint64_t count) override
    {
        discards.emplace_back(first, count);
        std::fill_n(data_.begin() + static_cast<std::ptrdiff_t>(first * kPageSize),
                    count * kPageSize, std::byte{0});
    }
    Status write_pages(std::uint64_t first, std::span<const std::byte> pages, ThreadPool&) override
    {
        return write_bytes(first * kPageSize, pages);
    }
    void clear() override { std::fill(data_.begin(), data_.end(), std::byte{0}); }
    MmStat mm_stat() const override { return stat; }
    IoStat io_stat() const override { return {}; }
    void reset_mem_used_max() override {}
    void set_mem_limit(std::uint64_t) override {}
    void set_limit_waits(bool on) override { waits_at_limit = on; }
    bool limit_waits() const override { return waits_at_limit; }
    std::uint64_t compact() override { return 0; }
    std::uint64_t mark_idle(std::uint64_t) override { return 0; }

private:
    std::vector<std::byte> data_;
    std::string name_;
    CodecParams params_;
};

} // namespace trueno::test
