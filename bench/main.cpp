// trueno-zram-bench: writes a corpus of real memory pages into a fresh page store, reads every
// page back and compares, and reports ratio, throughput and latency like kernel zram's mm_stat.
//
// Exit status: 0 success, 1 a page failed to write or read back identical, 2 bad usage/input.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench_report.hpp"
#include "disksize.hpp"
#include "page_corpus.hpp"
#include "page_store_bench.hpp"
#include "trueno/codec.hpp"
#include "trueno/page_store.hpp"

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr std::uint64_t kProgressMinPages = 8192; // below ~32 MiB a bar would only flicker

int fail(int code, const std::string& message) {
    std::cerr << "trueno-zram-bench: " << message << "\n";
    return code;
}

} // namespace

int main(int argc, char** argv) {
    using namespace trueno;
    using namespace trueno::bench;

    CLI::App app{"Benchmarks the trueno-zram page store on a corpus of 4096-byte pages (raw, or a zstd stream "
                 "of them): compression ratio as mm_stat, write/read throughput, read latency; verifies every "
                 "page reads back identical."};
    app.set_version_flag("--version", std::string("trueno-zram-bench ") + TRUENO_VERSION);

    std::string input;
    std::string algorithm = "lzo-rle";
    std::string params_text;
    unsigned threads = 1;
    bool json = false;
    std::uint64_t page_limit = 0;
    std::string disksize_text = "auto";
    std::string write_mode_text = "split";
    std::string recompress_text;
    int recompress_level = 0;
    unsigned group_pages = 0;
    std::string dedup_text;

    app.add_option("-i,--input", input, "corpus file: raw 4096-byte pages or a zstd stream of them")->required();
    app.add_option("-a,--algorithm", algorithm, "compression algorithm (kernel names: " + available_codec_names() + ")")
        ->capture_default_str();
    app.add_option("-p,--params", params_text, "algorithm parameters as the kernel's algorithm_params, e.g. 'level=3'");
    app.add_option("-t,--threads", threads, "threads for the write and the read phase")
        ->check(CLI::Range(1u, 1024u))
        ->capture_default_str();
    app.add_flag("--json", json, "print one JSON object instead of a table");
    app.add_option("-n,--pages", page_limit, "use at most this many pages of the input (0 = all)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--disksize", disksize_text, "store size: 'auto' (the corpus) or bytes with K/M/G/T suffix")
        ->capture_default_str();
    app.add_option("--write-mode", write_mode_text,
                   "split: each thread write_page()s a contiguous share (per-page latency); "
                   "batch: the store's write_pages() on a thread pool")
        ->check(CLI::IsMember({"split", "batch"}))
        ->capture_default_str();

    std::vector<std::string> policy_names;
    for (const auto& policy : recompress_policies()) policy_names.emplace_back(policy.name);
    app.add_option("--recompress", recompress_text,
                   "after writing: mark every page idle and recompress with POLICY (" +
                       recompress_policy_names() + ")")
        ->check(CLI::IsMember(policy_names));
    // Overrides of the policy, to map the ratio / speed frontier point by point.
    app.add_option("--recompress-level", recompress_level, "with --recompress: this zstd level instead of the policy's")
        ->check(CLI::Range(1, 22));
    app.add_option("--group-pages", group_pages,
                   "with --recompress: multi-page objects of up to N pages instead of the policy's (1 = none)")
        ->check(CLI::Range(1u, kMaxGroupPages));
    app.add_option("--dedup", dedup_text, "with --recompress: share identical pages (on/off) instead of the policy's")
        ->check(CLI::IsMember({"on", "off"}));

    std::string memory_text = "private";
    std::string writeback_device;
    app.add_option(
        "--writeback", writeback_device,
        "after the writes, write every page back to this block device or file (it is overwritten) "
        "and read them from it: blocks per page, RAM freed, read latency from the device");
    bool repack = false;
    app.add_flag("--repack", repack,
                 "with --writeback: then rewrite two pages of every three (back into RAM, leaving "
                 "the device's blocks sparse) and repack the device: blocks before and after, "
                 "blocks read and written");
    bool never_fault = false;
    app.add_flag("--never-fault", never_fault,
                 "as trueno-zramd's devices: writes use only memory a refill thread populated ahead "
                 "(page faults move off the writing threads)");
    app.add_option("--memory", memory_text,
                   "where the store lives: 'private' (process memory) or 'shared' (a locked System V "
                   "segment that outlives the process, as trueno-zramd's devices; needs root)")
        ->capture_default_str()
        ->check(CLI::IsMember({"private", "shared"}));

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }

    // Validate the configuration before spending time on the corpus.
    auto params = parse_codec_params(params_text);
    if (!params) return fail(kExitUsage, params.error().message);
    auto codec = make_codec(algorithm, *params);
    if (!codec) return fail(kExitUsage, codec.error().message);
    auto disksize = parse_disksize(disksize_text);
    if (!disksize) return fail(kExitUsage, disksize.error().message);

    CorpusOptions corpus_options;
    corpus_options.page_limit = page_limit;
    auto corpus = load_corpus(input, corpus_options);
    if (!corpus) return fail(kExitUsage, corpus.error().message);

    const std::uint64_t corpus_bytes = corpus->page_count() * kPageSize;
    if (*disksize != 0 && *disksize < corpus_bytes)
        return fail(kExitUsage, "--disksize " + std::to_string(*disksize) + " is smaller than the corpus (" +
                                    std::to_string(corpus_bytes) + " bytes)");

    StoreConfig config;
    config.disksize = *disksize ? *disksize : corpus_bytes;
    config.algorithm = algorithm;
    config.params = *params;
    config.never_fault_on_io = never_fault;
    // A shared store gets a key of this process's own, and the segment goes when the run ends.
    struct SegmentRemover {
        std::int32_t key = 0;
        ~SegmentRemover() {
            if (key != 0) (void)PageStore::remove_shared_memory(key);
        }
    } segment;
    if (memory_text == "shared") {
        segment.key = static_cast<std::int32_t>(0x74620000u | (static_cast<std::uint32_t>(::getpid()) & 0xffffu));
        (void)PageStore::remove_shared_memory(segment.key); // a leftover of a killed run
        config.shared_memory_key = segment.key;
    }
    auto store = PageStore::create(config);
    if (!store) return fail(kExitUsage, store.error().message);

    BenchOptions options;
    options.threads = threads;
    options.write_mode = write_mode_text == "batch" ? WriteMode::batch : WriteMode::split;
    options.progress = corpus->page_count() >= kProgressMinPages;
    options.writeback_device = writeback_device;
    options.repack = repack;
    if (repack && writeback_device.empty())
        return fail(kExitUsage, "--repack needs --writeback");
    std::optional<RecompressPolicy> policy;
    if (!recompress_text.empty()) {
        const auto* named = find_recompress_policy(recompress_text);
        if (named == nullptr) return fail(kExitUsage, "unknown recompression policy " + recompress_text);
        policy = *named;
        if (recompress_level != 0) policy->level = recompress_level;
        if (group_pages != 0) policy->group_pages = group_pages;
        if (!dedup_text.empty()) policy->dedup = dedup_text == "on";
        options.recompress = &*policy;
    } else if (recompress_level != 0 || group_pages != 0 || !dedup_text.empty()) {
        return fail(kExitUsage, "--recompress-level, --group-pages and --dedup need --recompress");
    }
    auto result = run_page_store_bench(**store, *corpus, options);
    if (!result) return fail(kExitFailed, result.error().message);

    BenchSetup setup{input, algorithm, params_text, (*codec)->level(), threads, write_mode_text, (*store)->disksize()};
    if (json)
        std::cout << report_json(setup, *result).dump() << "\n";
    else
        std::cout << report_table(setup, *result);

    if (result->first_bad_page)
        return fail(kExitFailed, "page " + std::to_string(*result->first_bad_page) + ": " + result->failure);
    return 0;
}
