// Measures the store on the corpus: overhead, single-thread write and read throughput, and
// read latency percentiles. Not a test; run by hand: store-measure [algorithm] [pages].
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "corpus_pages.hpp"
#include "trueno/page_store.hpp"

using namespace trueno;
using Clock = std::chrono::steady_clock;

// CPU time of this thread: on a shared, loaded machine wall time says little.
static double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) / 1e9;
}

int main(int argc, char** argv) {
    const std::string algorithm = argc > 1 ? argv[1] : "lz4";
    const std::size_t want = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 38466;
    auto corpus = test::read_corpus_pages(TRUENO_CORPUS_FILE, want);
    if (!corpus) {
        std::fprintf(stderr, "corpus: %s\n", corpus.error().message.c_str());
        return 1;
    }
    const auto& pages = *corpus;
    const std::uint64_t count = pages.size() / kPageSize;
    StoreConfig config;
    config.disksize = count * kPageSize;
    config.algorithm = algorithm;
    config.streams = 1;
    auto created = PageStore::create(config);
    if (!created) {
        std::fprintf(stderr, "store: %s\n", created.error().message.c_str());
        return 1;
    }
    PageStore& store = **created;

    // The codec alone, for what the store adds on top of it.
    auto codec = make_codec(algorithm);
    if (!codec) return 1;
    std::array<std::byte, kPageSize> scratch;
    double cpu_start = thread_cpu_seconds();
    for (std::uint64_t i = 0; i < count; ++i)
        (*codec)->compress(std::span(pages).subspan(i * kPageSize, kPageSize),
                           std::span(scratch).first(3631));
    const double codec_cpu = thread_cpu_seconds() - cpu_start;

    auto start = Clock::now();
    cpu_start = thread_cpu_seconds();
    for (std::uint64_t i = 0; i < count; ++i)
        if (!store.write_page(i, std::span(pages).subspan(i * kPageSize).first<kPageSize>()))
            return 2;
    const double write_s = std::chrono::duration<double>(Clock::now() - start).count();
    const double write_cpu = thread_cpu_seconds() - cpu_start;

    // Overwriting every page: memory is already mapped and faulted in (steady state of swap).
    cpu_start = thread_cpu_seconds();
    for (std::uint64_t i = 0; i < count; ++i)
        if (!store.write_page(i, std::span(pages).subspan(i * kPageSize).first<kPageSize>()))
            return 2;
    const double overwrite_cpu = thread_cpu_seconds() - cpu_start;

    std::vector<double> latency_us(count);
    std::array<std::byte, kPageSize> page;
    start = Clock::now();
    cpu_start = thread_cpu_seconds();
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto t0 = Clock::now();
        if (!store.read_page(i, page)) return 3;
        latency_us[i] = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
        if (std::memcmp(page.data(), pages.data() + i * kPageSize, kPageSize) != 0) return 4;
    }
    const double read_s = std::chrono::duration<double>(Clock::now() - start).count();
    const double read_cpu = thread_cpu_seconds() - cpu_start;
    std::sort(latency_us.begin(), latency_us.end());
    const MmStat s = store.mm_stat();
    const double mb = double(count * kPageSize) / 1e6;
    std::printf("%s: %llu pages (%.1f MB)\n", algorithm.c_str(),
                static_cast<unsigned long long>(count), mb);
    std::printf("  one thread: write %.0f MB/s wall, %.0f MB/s per CPU-second; read %.0f MB/s "
                "wall, %.0f MB/s per CPU-second (includes the check of every page)\n",
                mb / write_s, mb / write_cpu, mb / read_s, mb / read_cpu);
    std::printf("  overwrite of every page: %.0f MB/s per CPU-second\n", mb / overwrite_cpu);
    std::printf("  codec compress alone: %.0f MB/s per CPU-second\n", mb / codec_cpu);
    std::printf("  read latency us: p50 %.2f p99 %.2f p99.9 %.2f max %.2f\n",
                latency_us[count / 2], latency_us[count * 99 / 100],
                latency_us[count * 999 / 1000], latency_us.back());
    std::printf("  compr %llu mem_used %llu overhead %.2f%% ratio %.2f same %llu huge %llu\n",
                static_cast<unsigned long long>(s.compr_data_size),
                static_cast<unsigned long long>(s.mem_used_total),
                100.0 * double(s.mem_used_total - s.compr_data_size) / double(s.compr_data_size),
                double(s.orig_data_size) / double(s.mem_used_total),
                static_cast<unsigned long long>(s.same_pages),
                static_cast<unsigned long long>(s.huge_pages));
    std::fputs(format_mm_stat(s).c_str(), stdout);
    return 0;
}
