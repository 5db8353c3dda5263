// page-verify [--noise N | --corpus FILE] MEGABYTES [GO_FILE]: fills that much anonymous memory
// with compressible pages, each carrying its index and a checksum, then (once GO_FILE exists, if
// given) reads every page back and checks it. In a VM with little RAM the pages go through swap:
// any page lost or corrupted on the way is counted. Exit 0 only when every page verified.
// With --corpus the pages are real process memory (a page corpus, raw, e.g. a virtio disk) read
// in order and wrapping around, with only the first and last 8 bytes of each replaced.
// With --touch, while it waits for GO_FILE it keeps reading and rewriting random pages (each
// swap-in is followed by a new swap-out) and reports the longest time between two accesses:
// the longest this swapping process stalled, wherever it stalled (its page, its stack, its
// page tables), e.g. across a restart of the swap device's server.
// With --passes N, after the fill (and GO_FILE) it reads every page N more times, in order,
// before the final check. It prints the time of each phase: "PHASES fill F touch T verify V",
// and of those passes' page accesses (a swap-in, a swap-cache hit or a resident page):
// "ACCESS p50 A p99 B p99.9 C max D us; faults major M minor N".
#include "trueno/latency_histogram.hpp"

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

namespace {

constexpr std::size_t kPage = 4096;
constexpr std::size_t kWords = kPage / 8;

std::uint64_t mix(std::uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

// Word 0: the index; words 1..510: repeated values with `noise` random words in every 64
// (never same-filled); word 511: a checksum of the others. Page by page with lz4, noise 1
// compresses about 29:1, 16 about 3.7:1 and 20 about 3:1 (real process memory: 2.8:1).
void fill(std::uint64_t* page, std::uint64_t index, std::size_t noise)
{
    page[0] = index;
    std::uint64_t sum = mix(index);
    for (std::size_t w = 1; w + 1 < kWords; ++w) {
        page[w] = (w % 64 < noise) ? mix(index * 1000 + w) : (index & 0xff) * 0x0101010101010101ULL + w / 64;
        sum = mix(sum ^ page[w]);
    }
    page[kWords - 1] = sum;
}

bool check(const std::uint64_t* page, std::uint64_t index)
{
    if (page[0] != index)
        return false;
    std::uint64_t sum = mix(index);
    for (std::size_t w = 1; w + 1 < kWords; ++w)
        sum = mix(sum ^ page[w]);
    return page[kWords - 1] == sum;
}

// A corpus page (index modulo the corpus) with the index in word 0 and the checksum in the last.
bool fill_from(int corpus, std::size_t corpus_pages, std::uint64_t* page, std::uint64_t index)
{
    // O_DIRECT straight into the page: the corpus does not sit in the page cache as well.
    const off_t at = static_cast<off_t>((index % corpus_pages) * kPage);
    if (pread(corpus, page, kPage, at) != static_cast<ssize_t>(kPage))
        return false;
    page[0] = index;
    std::uint64_t sum = mix(index);
    for (std::size_t w = 1; w + 1 < kWords; ++w)
        sum = mix(sum ^ page[w]);
    page[kWords - 1] = sum;
    return true;
}

std::uint64_t now_ns()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<std::uint64_t>(t.tv_sec) * 1000000000ULL + static_cast<std::uint64_t>(t.tv_nsec);
}

using trueno::LatencyHistogram;

} // namespace

double now_ms()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

// Touches random pages until `go` exists; returns false on a page that fails its check.
bool touch_until(const char* go, std::uint64_t* base, std::size_t pages)
{
    std::uint64_t x = 88172645463325252ULL;
    double longest = 0;
    std::size_t touched = 0;
    double last = now_ms();
    double last_check = last;
    for (;;) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const std::size_t i = x % pages;
        volatile std::uint64_t* page = base + i * kWords;
        if (page[0] != i) {
            std::printf("page-verify: page %zu corrupted while touching\n", i);
            return false;
        }
        page[1] = page[1]; // dirty: it must be swapped out again
        const double now = now_ms();
        if (now - last > longest)
            longest = now - last;
        last = now;
        ++touched;
        if (now - last_check > 50) {
            last_check = now;
            if (access(go, F_OK) == 0)
                break;
        }
    }
    std::printf("page-verify: TOUCHED %zu pages, longest stall between two accesses %.1f ms\n", touched, longest);
    std::fflush(stdout);
    return true;
}

int main(int argc, char** argv)
{
    std::size_t noise = 1;
    bool touch = false;
    long passes = 0;
    for (;;) {
        if (argc > 1 && std::strcmp(argv[1], "--touch") == 0) {
            touch = true;
            --argc;
            ++argv;
        } else if (argc > 2 && std::strcmp(argv[1], "--passes") == 0) {
            passes = std::atol(argv[2]);
            argc -= 2;
            argv += 2;
        } else {
            break;
        }
    }
    int corpus = -1;
    std::size_t corpus_pages = 0;
    if (argc > 2 && std::strcmp(argv[1], "--corpus") == 0) {
        corpus = open(argv[2], O_RDONLY | O_DIRECT | O_CLOEXEC);
        const off_t size = corpus < 0 ? -1 : lseek(corpus, 0, SEEK_END);
        if (size < static_cast<off_t>(kPage)) {
            std::fprintf(stderr, "page-verify: cannot read a page corpus from %s\n", argv[2]);
            return 2;
        }
        corpus_pages = static_cast<std::size_t>(size) / kPage;
        argc -= 2;
        argv += 2;
    } else if (argc > 2 && std::strcmp(argv[1], "--noise") == 0) {
        const long n = std::atol(argv[2]);
        if (n < 1 || n > 63) {
            std::fprintf(stderr, "page-verify: --noise takes 1..63 random words in every 64\n");
            return 2;
        }
        noise = static_cast<std::size_t>(n);
        argc -= 2;
        argv += 2;
    }
    if (argc < 2 || std::atol(argv[1]) <= 0) {
        std::fprintf(stderr, "usage: page-verify [--touch] [--passes N] [--noise N | --corpus FILE] MEGABYTES [GO_FILE]\n");
        return 2;
    }
    const std::size_t pages = static_cast<std::size_t>(std::atol(argv[1])) * 256;
    void* map = mmap(nullptr, pages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        std::perror("page-verify: mmap");
        return 1;
    }
    auto* base = static_cast<std::uint64_t*>(map);
    const double fill_start = now_ms();
    for (std::size_t i = 0; i < pages; ++i) {
        if (corpus < 0) {
            fill(base + i * kWords, i, noise);
        } else if (!fill_from(corpus, corpus_pages, base + i * kWords, i)) {
            std::perror("page-verify: reading the corpus");
            return 1;
        }
        if (i % (pages / 4) == 0) {
            std::printf("page-verify: filling, %zu%%\n", i * 100 / pages);
            std::fflush(stdout);
        }
    }
    const double fill_ms = now_ms() - fill_start;
    std::printf("page-verify: FILLED %zu pages\n", pages);
    std::fflush(stdout);
    if (argc > 2 && touch) {
        if (!touch_until(argv[2], base, pages))
            return 1;
    } else if (argc > 2) {
        while (access(argv[2], F_OK) != 0)
            usleep(100000);
    }
    const double touch_start = now_ms();
    std::size_t bad = 0;
    LatencyHistogram access_times;
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    for (long pass = 0; pass < passes; ++pass) {
        for (std::size_t i = 0; i < pages; ++i) {
            const std::uint64_t start = now_ns();
            const std::uint64_t word = static_cast<volatile std::uint64_t*>(base + i * kWords)[0];
            access_times.add(now_ns() - start);
            if (word != i && bad++ < 5)
                std::printf("page-verify: page %zu corrupted in pass %ld\n", i, pass + 1);
        }
        std::printf("page-verify: pass %ld done\n", pass + 1);
        std::fflush(stdout);
    }
    const double touch_ms = now_ms() - touch_start;
    if (passes > 0) {
        rusage after{};
        getrusage(RUSAGE_SELF, &after);
        std::printf("page-verify: ACCESS p50 %.1f p99 %.1f p99.9 %.1f max %.1f us; faults major %ld minor %ld\n",
                    access_times.quantile_us(0.5), access_times.quantile_us(0.99),
                    access_times.quantile_us(0.999), access_times.max_us(), after.ru_majflt - before.ru_majflt,
                    after.ru_minflt - before.ru_minflt);
    }
    const double verify_start = now_ms();
    for (std::size_t i = 0; i < pages; ++i) {
        if (i % (pages / 4) == 0) {
            std::printf("page-verify: verifying, %zu%%\n", i * 100 / pages);
            std::fflush(stdout);
        }
        if (!check(base + i * kWords, i)) {
            if (bad < 5)
                std::printf("page-verify: page %zu corrupted\n", i);
            ++bad;
        }
    }
    std::printf("page-verify: VERIFIED %zu pages, %zu bad\n", pages, bad);
    std::printf("page-verify: PHASES fill %.1f touch %.1f verify %.1f\n", fill_ms / 1000, touch_ms / 1000,
                (now_ms() - verify_start) / 1000);
    return bad == 0 ? 0 : 1;
}
