#include "page_store_bench.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <latch>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include "progress_bar.hpp"
#include "trueno/thread_pool.hpp"

namespace trueno::bench {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kProgressStep = 256; // pages between progress counter updates
constexpr std::uint64_t kSampledPages = 128;  // pages read during recompression

double seconds_between(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

std::uint32_t nanoseconds_between(Clock::time_point a, Clock::time_point b) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
    return static_cast<std::uint32_t>(std::min<std::int64_t>(ns, std::numeric_limits<std::uint32_t>::max()));
}

// Page range [first, last) of worker `index` out of `workers`.
struct Share {
    std::uint64_t first;
    std::uint64_t last;
};
Share share_of(std::uint64_t pages, unsigned workers, unsigned index) {
    return {pages * index / workers, pages * (index + 1) / workers};
}

// The first failure seen by any worker, lowest page index wins so the message is stable.
class FirstFailure {
public:
    void record(std::uint64_t page, std::string why) {
        std::lock_guard lock(mutex_);
        if (!page_ || page < *page_) {
            page_ = page;
            why_ = std::move(why);
        }
    }
    std::optional<std::uint64_t> page() const { return page_; }
    const std::string& why() const { return why_; }

private:
    std::mutex mutex_;
    std::optional<std::uint64_t> page_;
    std::string why_;
};

// Runs body(worker, share, progress) on `workers` threads released together; returns wall time
// from release to the last thread's end, drawing the progress bar meanwhile.
template <typename Body>
double run_workers(std::uint64_t pages, unsigned workers, ProgressBar& bar, Body&& body) {
    std::atomic<std::uint64_t> progress{0};
    std::latch start(1);
    std::atomic<unsigned> running{workers};
    std::vector<std::jthread> threads;
    threads.reserve(workers);
    for (unsigned w = 0; w < workers; ++w) {
        threads.emplace_back([&, w] {
            start.wait();
            body(w, share_of(pages, workers, w), progress);
            running.fetch_sub(1, std::memory_order_release);
        });
    }
    auto t0 = Clock::now();
    start.count_down();
    while (bar.active() && running.load(std::memory_order_acquire) > 0) {
        bar.update(progress.load(std::memory_order_relaxed));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (auto& t : threads) t.join();
    auto t1 = Clock::now();
    bar.finish();
    return seconds_between(t0, t1);
}

Result<PhaseResult> write_split(PageStore& store, const PageCorpus& corpus, const BenchOptions& options) {
    const std::uint64_t pages = corpus.page_count();
    std::vector<std::vector<std::uint32_t>> latencies(options.threads);
    FirstFailure failure;
    ProgressBar bar("write", pages, options.progress);
    double seconds = run_workers(pages, options.threads, bar,
                                 [&](unsigned w, Share share, std::atomic<std::uint64_t>& progress) {
        auto& lat = latencies[w];
        lat.reserve(share.last - share.first);
        for (std::uint64_t i = share.first; i < share.last; ++i) {
            auto t0 = Clock::now();
            Status st = store.write_page(i, corpus.page(i));
            auto t1 = Clock::now();
            if (!st) {
                failure.record(i, st.error().message);
                return;
            }
            lat.push_back(nanoseconds_between(t0, t1));
            if ((i - share.first + 1) % kProgressStep == 0) progress.fetch_add(kProgressStep, std::memory_order_relaxed);
        }
    });
    if (failure.page())
        return make_error(EIO, "write of page " + std::to_string(*failure.page()) + " failed: " + failure.why());
    std::vector<std::uint32_t> all;
    all.reserve(pages);
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    return PhaseResult{seconds, summarize_latencies(all)};
}

Result<PhaseResult> write_batch(PageStore& store, const PageCorpus& corpus, const BenchOptions& options) {
    ThreadPool pool(options.threads);
    ProgressBar bar("write", corpus.page_count(), options.progress);
    // Slices of the corpus so the bar can move; each slice is still a large parallel batch.
    constexpr std::uint64_t slice_pages = 4096;
    auto t0 = Clock::now();
    for (std::uint64_t first = 0; first < corpus.page_count(); first += slice_pages) {
        std::uint64_t count = std::min(slice_pages, corpus.page_count() - first);
        Status st = store.write_pages(first, corpus.bytes().subspan(first * kPageSize, count * kPageSize), pool);
        if (!st) return make_error(EIO, "write_pages from page " + std::to_string(first) + " failed: " + st.error().message);
        bar.update(first + count);
    }
    auto t1 = Clock::now();
    bar.finish();
    return PhaseResult{seconds_between(t0, t1), std::nullopt};
}

PhaseResult read_and_verify(PageStore& store, const PageCorpus& corpus, const BenchOptions& options,
                            FirstFailure& failure) {
    const std::uint64_t pages = corpus.page_count();
    std::vector<std::vector<std::uint32_t>> latencies(options.threads);
    ProgressBar bar("read", pages, options.progress);
    double seconds = run_workers(pages, options.threads, bar,
                                 [&](unsigned w, Share share, std::atomic<std::uint64_t>& progress) {
        auto& lat = latencies[w];
        lat.reserve(share.last - share.first);
        alignas(64) std::array<std::byte, kPageSize> buf{};
        for (std::uint64_t i = share.first; i < share.last; ++i) {
            auto t0 = Clock::now();
            Status st = store.read_page(i, MutablePageView(buf));
            auto t1 = Clock::now();
            if (!st) {
                failure.record(i, "read failed: " + st.error().message);
                return;
            }
            lat.push_back(nanoseconds_between(t0, t1));
            // Verified inside the phase (a 4 KiB memcmp is a few percent of a read): the data
            // is checked where it was produced, without a second copy of the corpus.
            if (std::memcmp(buf.data(), corpus.page(i).data(), kPageSize) != 0) {
                auto a = corpus.page(i);
                std::size_t off = 0;
                while (off < kPageSize && a[off] == buf[off]) ++off;
                failure.record(i, "read back different data (first difference at byte " + std::to_string(off) + ")");
                return;
            }
            if ((i - share.first + 1) % kProgressStep == 0) progress.fetch_add(kProgressStep, std::memory_order_relaxed);
        }
    });
    std::vector<std::uint32_t> all;
    all.reserve(pages);
    for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
    return PhaseResult{seconds, summarize_latencies(all)};
}

// Recompresses every idle page with the policy while one thread reads random pages, timing
// each read and checking it against the corpus (a page read meanwhile must stay intact).
Result<RecompressPhase> recompress_with_reader(PageStore& store, const PageCorpus& corpus,
                                               const RecompressPolicy& policy, FirstFailure& failure) {
    RecompressPhase phase;
    phase.policy = std::string(policy.name);
    phase.level = policy.level;
    phase.group_pages = policy.group_pages;
    phase.dedup = policy.dedup;
    const MmStat before = store.mm_stat();
    phase.ratio_before = before.mem_used_total ? static_cast<double>(before.orig_data_size) /
                                                     static_cast<double>(before.mem_used_total)
                                               : 0.0;
    store.mark_idle(0);
    std::atomic<bool> stop{false};
    std::vector<std::uint32_t> latencies;
    std::jthread reader([&] {
        std::uint64_t state = 0x9e3779b97f4a7c15ull;
        alignas(64) std::array<std::byte, kPageSize> buf{};
        while (!stop.load(std::memory_order_relaxed)) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            // A read makes a page hot again (it is no longer idle), so the reader stays on
            // a fixed set of kSampledPages pages spread over the corpus.
            const std::uint64_t i = (state >> 17) % kSampledPages * corpus.page_count() / kSampledPages;
            auto t0 = Clock::now();
            Status st = store.read_page(i, MutablePageView(buf));
            auto t1 = Clock::now();
            if (!st) failure.record(i, "read during recompression failed: " + st.error().message);
            else if (std::memcmp(buf.data(), corpus.page(i).data(), kPageSize) != 0)
                failure.record(i, "read back different data during recompression");
            latencies.push_back(nanoseconds_between(t0, t1));
            // Sampling, not a load test: leave the CPU to the recompression.
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    RecompressOptions options;
    options.type = RecompressOptions::Type::idle;
    auto t0 = Clock::now();
    auto report = run_recompress_policy(store, policy, options);
    phase.seconds = seconds_between(t0, Clock::now());
    stop.store(true);
    reader.join();
    if (!report) return report.error();
    phase.report = *report;
    phase.objects = store.object_stat();
    if (!latencies.empty()) phase.read_latency = summarize_latencies(latencies);
    return phase;
}

// Two pages of every three written again (the same data): they come back into RAM and their
// places on the device free, leaving its blocks sparse; then the device is repacked.
Result<RepackPhase> rewrite_and_repack(PageStore& store, const PageCorpus& corpus) {
    RepackPhase phase;
    for (std::uint64_t i = 0; i < corpus.page_count(); ++i) {
        if (i % 3 == 0)
            continue;
        if (auto st = store.write_page(i, corpus.page(i)); !st)
            return make_error(st.error().code,
                              "rewriting page " + std::to_string(i) + ": " + st.error().message);
        ++phase.rewritten;
    }
    phase.before = store.backing_usage();
    auto t0 = Clock::now();
    auto report = store.compact_backing();
    phase.seconds = seconds_between(t0, Clock::now());
    if (!report)
        return report.error();
    phase.report = *report;
    phase.after = store.backing_usage();
    return phase;
}

// Every stored page to the backing device: what it costs on the device and frees in RAM.
Result<WritebackPhase> write_back_all(PageStore& store, const std::string& device) {
    WritebackPhase phase;
    phase.device = device;
    if (auto set = store.set_backing_device(device); !set)
        return set.error();
    phase.before = store.mm_stat();
    store.mark_idle(0);
    auto t0 = Clock::now();
    auto report = store.writeback(WritebackOptions{WritebackOptions::Type::idle});
    phase.seconds = seconds_between(t0, Clock::now());
    if (!report)
        return report.error();
    phase.report = *report;
    store.compact();
    phase.after = store.mm_stat();
    return phase;
}

double mb_per_s(std::uint64_t pages, double seconds) {
    return seconds > 0 ? static_cast<double>(pages * kPageSize) / 1e6 / seconds : 0.0;
}

} // namespace

double RecompressPhase::mb_s_per_core() const {
    return report.cpu_seconds > 0
               ? static_cast<double>(report.tried * kPageSize) / 1e6 / report.cpu_seconds
               : 0.0;
}

double WritebackPhase::blocks_per_page() const {
    return report.pages ? static_cast<double>(report.blocks) / static_cast<double>(report.pages)
                        : 0.0;
}

double BenchResult::write_mb_s() const { return mb_per_s(pages, write.seconds); }
double BenchResult::read_mb_s() const { return mb_per_s(pages, read.seconds); }

double BenchResult::ratio() const {
    return mm.mem_used_total ? static_cast<double>(mm.orig_data_size) / static_cast<double>(mm.mem_used_total) : 0.0;
}

double BenchResult::allocator_overhead_pct() const {
    if (mm.compr_data_size == 0) return 0.0;
    return (static_cast<double>(mm.mem_used_total) - static_cast<double>(mm.compr_data_size)) /
           static_cast<double>(mm.compr_data_size) * 100.0;
}

Result<BenchResult> run_page_store_bench(PageStore& store, const PageCorpus& corpus, const BenchOptions& options) {
    if (options.threads == 0) return make_error(EINVAL, "threads must be at least 1");
    if (store.page_count() < corpus.page_count())
        return make_error(EINVAL, "the store holds " + std::to_string(store.page_count()) + " pages but the corpus has " +
                                      std::to_string(corpus.page_count()));
    BenchResult result;
    result.pages = corpus.page_count();

    auto written = options.write_mode == WriteMode::batch ? write_batch(store, corpus, options)
                                                          : write_split(store, corpus, options);
    if (!written) return written.error();
    result.write = *written;
    // Statistics after the writes, before reads could change anything (they must not).
    result.mm = store.mm_stat();

    FirstFailure failure;
    if (options.recompress != nullptr) {
        auto phase = recompress_with_reader(store, corpus, *options.recompress, failure);
        if (!phase) return make_error(phase.error().code, "recompression: " + phase.error().message);
        result.recompress = *phase;
        result.mm = store.mm_stat();
    }
    if (!options.writeback_device.empty()) {
        auto phase = write_back_all(store, options.writeback_device);
        if (!phase)
            return make_error(phase.error().code, "writeback: " + phase.error().message);
        result.writeback = *phase;
        if (options.repack) {
            auto repacked = rewrite_and_repack(store, corpus);
            if (!repacked)
                return make_error(repacked.error().code, "repack: " + repacked.error().message);
            result.writeback->repack = *repacked;
        }
    }
    result.read = read_and_verify(store, corpus, options, failure);
    result.first_bad_page = failure.page();
    result.failure = failure.why();
    result.io = store.io_stat();
    return result;
}

} // namespace trueno::bench
