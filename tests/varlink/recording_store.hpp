// A page store for attribute tests: a real store underneath, the calls whose effect the
// stats do not show recorded, and a gate that holds compact() for as long as a test needs, so
// "while a compaction runs" is a state the test controls rather than a race it hopes to win.
#pragma once

#include "trueno/page_store.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace trueno::testing {

// One thread passes it (and waits there until it is opened); the test waits until it has
// been reached, checks what it wants meanwhile, then opens it.
class Gate {
public:
    void pass() {
        std::unique_lock lock(mutex_);
        reached_ = true;
        changed_.notify_all();
        changed_.wait(lock, [&] { return open_; });
    }
    bool wait_reached(std::chrono::milliseconds within = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, within, [&] { return reached_; });
    }
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        changed_.notify_all();
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    bool reached_ = false;
    bool open_ = false;
};

// Opens the gate when the test leaves, failed or not, so no thread is left in it.
struct GateOpener {
    std::shared_ptr<Gate> gate;
    ~GateOpener() {
        if (gate)
            gate->open();
    }
};

// The results of asynchronous attribute writes, by attribute name, as they come in.
class DoneLog {
public:
    // A WriteDone that records under this name.
    auto recorder(std::string name) {
        return [this, name = std::move(name)](Status st) {
            std::lock_guard lock(mutex_);
            results_.emplace_back(name, st ? 0 : st.error().code);
            changed_.notify_all();
        };
    }
    // Waits until `name` has a result; its errno (0: done), or -1 if none came in time.
    int wait(const std::string& name, std::chrono::milliseconds within = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        int code = -1;
        changed_.wait_for(lock, within, [&] {
            for (const auto& [n, c] : results_)
                if (n == name)
                    code = c;
            return code != -1;
        });
        return code;
    }
    bool has(const std::string& name) {
        std::lock_guard lock(mutex_);
        for (const auto& [n, c] : results_)
            if (n == name)
                return true;
        return false;
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<std::pair<std::string, int>> results_;
};

// Delegates to a real store and records the calls whose effect the stats do not show.
class RecordingStore : public PageStore {
public:
    explicit RecordingStore(std::unique_ptr<PageStore> real) : real_(std::move(real)) {}
    // Read by the test once the worker is done with the store (a DoneLog wait orders them).
    std::vector<std::uint64_t> idle_calls;
    int compact_calls = 0;
    // Set: compact() blocks in it until the test opens it.
    std::shared_ptr<Gate> compact_gate;

    std::uint64_t page_count() const override { return real_->page_count(); }
    std::uint64_t disksize() const override { return real_->disksize(); }
    const std::string& algorithm() const override { return real_->algorithm(); }
    const CodecParams& params() const override { return real_->params(); }
    unsigned streams() const override { return real_->streams(); }
    Status write_page(std::uint64_t i, PageView d) override { return real_->write_page(i, d); }
    Status read_page(std::uint64_t i, MutablePageView o) override { return real_->read_page(i, o); }
    Status write_bytes(std::uint64_t off, std::span<const std::byte> d) override {
        return real_->write_bytes(off, d);
    }
    Status read_bytes(std::uint64_t off, std::span<std::byte> o) override {
        return real_->read_bytes(off, o);
    }
    void discard(std::uint64_t first, std::uint64_t count) override {
        real_->discard(first, count);
    }
    Status write_pages(std::uint64_t first, std::span<const std::byte> pages,
                       ThreadPool& pool) override {
        return real_->write_pages(first, pages, pool);
    }
    void clear() override { real_->clear(); }
    MmStat mm_stat() const override { return real_->mm_stat(); }
    IoStat io_stat() const override { return real_->io_stat(); }
    void reset_mem_used_max() override { real_->reset_mem_used_max(); }
    void set_mem_limit(std::uint64_t bytes) override { real_->set_mem_limit(bytes); }
    std::uint64_t compact() override {
        ++compact_calls;
        if (compact_gate)
            compact_gate->pass();
        return real_->compact();
    }
    std::uint64_t mark_idle(std::uint64_t age) override {
        idle_calls.push_back(age);
        return real_->mark_idle(age);
    }
    Status set_recomp_algorithm(unsigned p, const std::string& a, const CodecParams& c) override {
        return real_->set_recomp_algorithm(p, a, c);
    }
    Result<std::size_t> train_recomp_dictionary(unsigned p, std::size_t b,
                                                std::uint64_t s) override {
        return real_->train_recomp_dictionary(p, b, s);
    }
    Result<RecompressReport> recompress(const RecompressOptions& o) override {
        return real_->recompress(o);
    }
    std::vector<RecompAlgorithm> recomp_algorithms() const override {
        return real_->recomp_algorithms();
    }
    ObjectStat object_stat() const override { return real_->object_stat(); }
    Status set_backing_device(const std::string& path) override {
        return real_->set_backing_device(path);
    }
    std::string backing_device() const override { return real_->backing_device(); }
    Result<WritebackReport> writeback(const WritebackOptions& o) override {
        return real_->writeback(o);
    }
    BdStat bd_stat() const override { return real_->bd_stat(); }
    std::uint64_t coldest_age(std::uint64_t bytes) const override {
        return real_->coldest_age(bytes);
    }
    void set_limit_waits(bool on) override { real_->set_limit_waits(on); }
    bool limit_waits() const override { return real_->limit_waits(); }
    bool reads_backing_device(std::uint64_t offset, std::uint64_t length) const override {
        return real_->reads_backing_device(offset, length);
    }
    BackingUsage backing_usage() const override { return real_->backing_usage(); }
    Result<BackingCompaction> compact_backing() override { return real_->compact_backing(); }
    void set_writeback_limit(std::uint64_t blocks) override { real_->set_writeback_limit(blocks); }
    std::uint64_t writeback_limit() const override { return real_->writeback_limit(); }
    void set_writeback_limit_enable(bool on) override { real_->set_writeback_limit_enable(on); }
    bool writeback_limit_enable() const override { return real_->writeback_limit_enable(); }
    Status save_writeback_policy(std::string_view t) override {
        return real_->save_writeback_policy(t);
    }
    std::string saved_writeback_policy() const override { return real_->saved_writeback_policy(); }

private:
    std::unique_ptr<PageStore> real_;
};

} // namespace trueno::testing
