// The named recompression policies: points on the ratio / recompression-speed frontier,
// measured with trueno-zram-bench --recompress (tests/bench/RECOMPRESSION.md).
// A policy without a dictionary still adds a generation when run, as setting recomp_algorithm does.
#include "trueno/page_store.hpp"
#include "thread_cpu_time.hpp"

namespace trueno {

namespace {

constexpr RecompressPolicy kPolicies[] = {
    {"fast", "zstd", 1, 0, 0, 1, false,
     "zstd level 1 page by page: cheapest; reads stay single-page fast"},
    // Multi-page objects are where the ratio is: 32 neighbouring heap pages in one zstd frame
    // see the repetition between pages that a 4 KiB window cannot (level 7, groups of 32:
    // 5.36 after lz4 writes, 5.50 after adaptive, against 4.85 page by page; 70-84 MB/s per
    // core on a quiet host). A read of a cold page then decompresses its group.
    {"balanced", "zstd", 7, 0, 0, 32, false,
     "zstd level 7, multi-page objects of 32 pages"},
    {"strong", "zstd", 9, 112 * 1024, 4096, 32, true,
     "zstd level 9 with a 112 KiB dictionary trained on 4096 pages, multi-page objects of 32 "
     "pages, identical pages shared"},
    {"strongest", "zstd", 19, 112 * 1024, 4096, 32, true,
     "zstd level 19 with a 112 KiB dictionary trained on 4096 pages, multi-page objects of 32 "
     "pages, identical pages shared"},
};

} // namespace

std::span<const RecompressPolicy> recompress_policies() { return kPolicies; }

const RecompressPolicy* find_recompress_policy(std::string_view name) {
    for (const auto& policy : kPolicies)
        if (policy.name == name) return &policy;
    return nullptr;
}

std::string recompress_policy_names() {
    std::string names;
    for (const auto& policy : kPolicies) {
        if (!names.empty()) names += ' ';
        names += policy.name;
    }
    return names;
}

Result<RecompressReport> run_recompress_policy(PageStore& store, const RecompressPolicy& policy,
                                               RecompressOptions options) {
    const double cpu_start = store::thread_cpu_seconds();
    CodecParams params;
    params.level = policy.level;
    if (auto set = store.set_recomp_algorithm(options.priority, std::string(policy.algorithm), params);
        !set)
        return set.error();
    if (policy.dictionary_bytes != 0) {
        auto trained = store.train_recomp_dictionary(options.priority, policy.dictionary_bytes,
                                                     policy.sample_pages);
        if (!trained) return trained.error();
    }
    options.group_pages = policy.group_pages;
    options.dedup = policy.dedup;
    auto report = store.recompress(options);
    if (!report) return report.error();
    // The old objects leave holes all over the size classes; without compaction the memory
    // they held stays taken and the ratio would drop rather than rise.
    store.compact();
    report->cpu_seconds = store::thread_cpu_seconds() - cpu_start;
    return report;
}

} // namespace trueno
