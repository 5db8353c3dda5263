// The measurement itself: every corpus page written into a fresh store as page i, every page
// read back and compared, both phases timed on N threads with per-page latencies.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "latency.hpp"
#include "page_corpus.hpp"
#include "trueno/page_store.hpp"
#include "trueno/result.hpp"
#include "trueno/stats.hpp"

namespace trueno::bench {

// How the write phase spreads pages over threads.
enum class WriteMode {
    split, // N threads, each write_page()s a contiguous share, every call timed
    batch, // the store's write_pages() on a ThreadPool of N threads (no per-page latency)
};

struct BenchOptions {
    unsigned threads = 1;
    WriteMode write_mode = WriteMode::split;
    bool progress = false; // a progress bar on stderr (drawn only when it is a terminal)
    // After the writes: mark every page idle and recompress with this policy (while a reader
    // thread samples read latency), then read and verify as usual.
    const RecompressPolicy* recompress = nullptr;
    // After the writes (and recompression): write every page back to this backing device or
    // file (mark idle, writeback idle, compact), so the read phase reads them from it.
    std::string writeback_device;
    // With writeback_device: then rewrite two pages of every three (the same data, so they come
    // back into RAM and leave their blocks sparse) and repack the backing device.
    bool repack = false;
};

// The backing device repacked after rewrites (BenchOptions::repack).
struct RepackPhase {
    std::uint64_t rewritten = 0; // pages rewritten, back in RAM
    BackingUsage before;         // blocks in use and live bytes after the rewrites
    BackingUsage after;          // and after the repacking
    BackingCompaction report;
    double seconds = 0;
};

struct WritebackPhase {
    std::string device;
    WritebackReport report; // pages, blocks written, compressed bytes
    MmStat before;          // mm_stat before and after (after a compaction)
    MmStat after;
    double seconds = 0;
    // Bytes written per page written back, against kernel zram's one 4 KiB block per page.
    double blocks_per_page() const;
    std::optional<RepackPhase> repack;
};

struct RecompressPhase {
    std::string policy;
    int level = 0;            // the policy's zstd level, group size and dedup, as run
    unsigned group_pages = 1;
    bool dedup = false;
    ObjectStat objects;       // multi-page and dedup statistics afterwards
    double ratio_before = 0;  // orig_data_size / mem_used_total after the writes
    double seconds = 0;       // wall time of the recompression
    RecompressReport report;  // pages tried/kept and CPU time (training included)
    std::optional<LatencySummary> read_latency; // the sampling reader's reads meanwhile
    double mb_s_per_core() const; // original bytes recompressed per CPU second
};

struct PhaseResult {
    double seconds = 0;
    std::optional<LatencySummary> latency; // absent when the mode cannot time single pages
};

struct BenchResult {
    std::uint64_t pages = 0;
    PhaseResult write;
    PhaseResult read;
    std::optional<RecompressPhase> recompress;
    std::optional<WritebackPhase> writeback;
    MmStat mm{};                           // after the writes (and recompression, if any)
    IoStat io{};
    // Verification: the first page that failed to read or read back different, and why.
    std::optional<std::uint64_t> first_bad_page;
    std::string failure;

    double write_mb_s() const;
    double read_mb_s() const;
    double ratio() const;                  // orig_data_size / mem_used_total, as zramctl
    double allocator_overhead_pct() const; // (mem_used_total - compr_data_size) / compr_data_size
};

// Runs both phases on an empty store at least as large as the corpus. A write error stops the
// run and is returned; read errors and mismatches are reported in first_bad_page/failure.
Result<BenchResult> run_page_store_bench(PageStore& store, const PageCorpus& corpus, const BenchOptions& options);

} // namespace trueno::bench
