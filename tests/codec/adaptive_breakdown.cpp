// adaptive-breakdown: the adaptive codec against lz4 and against its earlier choices (a raw
// verdict from a sample, byte planes by the sample alone), on every page of the corpus, at the
// codec level (no store): bytes stored under the store's huge limit, pages stored raw, compress
// and decompress speed. Not a test: a measurement for RESULTS.md.
//
//   build/tests/codec/adaptive-breakdown [CORPUS] [PASSES]
//
// Speeds are the median of PASSES (default 5) passes, the variants alternating in each, timed in
// this thread's CPU time: on a shared machine wall time mostly measures the other tenants.
#include "byte_planes.hpp"
#include "corpus_pages.hpp"
#include "page_estimate.hpp"
#include "trueno/codec.hpp"
#include "trueno/page.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <lz4.h>
#include <string>
#include <time.h>
#include <vector>

using namespace trueno;
using namespace trueno::codec_detail;
using trueno::test::load_corpus_pages;

namespace {

constexpr std::size_t kStoreCapacity = 3631; // kHugeSize - 1 (lib/store/compressed_page_store.hpp)
using PageBytes = std::span<const std::byte, kPageSize>;

// One technique: returns the compressed size within dst, 0 for "stored raw".
using Technique = std::function<std::size_t(PageBytes, std::span<std::byte>)>;

class Lz4Calls {
public:
    int compress(std::span<const std::byte> src, std::span<std::byte> dst) {
        return LZ4_compress_fast_extState(&state_, reinterpret_cast<const char*>(src.data()),
                                          reinterpret_cast<char*>(dst.data()),
                                          static_cast<int>(src.size()), static_cast<int>(dst.size()), 1);
    }
    // Before the slice trial, adaptive sent a page to raw storage without a full lz4 call
    // when the sample looked random (few repeated bytes or words) and lz4 did not shrink a
    // 512-byte slice from its middle in proportion to the store's capacity.
    bool raw_verdict(PageBytes page, std::size_t capacity) {
        const WordPairSample sample = sample_word_pairs(page);
        unsigned equal_bytes = 0;
        for (unsigned count : sample.equal_bytes)
            equal_bytes += count;
        const unsigned partial = equal_bytes - 8 * sample.equal_words;
        if (!(partial * 16 < sample.pairs * 8 && sample.equal_words * 64 < sample.pairs))
            return false;
        const std::size_t limit = 512 * capacity / kPageSize;
        std::byte scratch[512];
        return compress(page.subspan(kPageSize / 2 - 256, 512), std::span(scratch, limit)) == 0;
    }

private:
    LZ4_stream_t state_{};
};

struct Measurement {
    std::string name;
    std::size_t stored = 0, raw = 0, raw_but_lz4_fits = 0;
    std::vector<double> compress_seconds, decode_us_per_page;
};

double cpu_seconds() {
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[v.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    const char* corpus = argc > 1 ? argv[1] : TRUENO_CORPUS_FILE;
    const int passes = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
    std::size_t same_filled = 0;
    const std::vector<std::byte> pages = load_corpus_pages(corpus, same_filled);
    if (pages.empty()) return 1;
    const std::size_t count = pages.size() / kPageSize;
    auto page = [&](std::size_t i) { return PageBytes(pages.data() + i * kPageSize, kPageSize); };

    auto lz4_codec = make_codec("lz4");
    auto adaptive_codec = make_codec("adaptive");
    if (!lz4_codec || !adaptive_codec) return 1;
    Lz4Calls lz4;
    std::vector<std::byte> planes(kPageSize);
    std::size_t verdicts = 0; // pages the raw verdict sent to raw storage without a full lz4 call

    const std::vector<std::pair<std::string, Technique>> techniques = {
        {"lz4",
         [&](PageBytes p, std::span<std::byte> dst) {
             return (*lz4_codec)->compress(p, dst);
         }},
        {"lz4 + raw verdict (adaptive before the trial)",
         [&](PageBytes p, std::span<std::byte> dst) -> std::size_t {
             if (lz4.raw_verdict(p, dst.size() - 1)) {
                 ++verdicts;
                 return 0;
             }
             const int n = lz4.compress(p, dst.subspan(1));
             return n > 0 ? static_cast<std::size_t>(n) + 1 : 0;
         }},
        {"lz4 + byte planes by the sample alone (adaptive before the trial)",
         [&](PageBytes p, std::span<std::byte> dst) -> std::size_t {
             std::span<const std::byte> input = p;
             if (favours_byte_planes(sample_word_pairs(p))) {
                 split_byte_planes(p, planes);
                 input = planes;
             }
             const int n = lz4.compress(input, dst.subspan(1));
             return n > 0 ? static_cast<std::size_t>(n) + 1 : 0;
         }},
        {"adaptive (byte planes where the sample and the slice trial agree)",
         [&](PageBytes p, std::span<std::byte> dst) {
             return (*adaptive_codec)->compress(p, dst);
         }},
    };

    std::vector<Measurement> results(techniques.size());
    std::vector<std::size_t> lz4_sizes(count);
    std::vector<std::byte> out(kStoreCapacity), back(kPageSize);
    for (int pass = 0; pass < passes; ++pass) {
        for (std::size_t t = 0; t < techniques.size(); ++t) {
            Measurement& r = results[t];
            r.name = techniques[t].first;
            r.stored = r.raw = r.raw_but_lz4_fits = 0;
            const double start = cpu_seconds();
            for (std::size_t i = 0; i < count; ++i) {
                const std::size_t n = techniques[t].second(page(i), out);
                if (t == 0) lz4_sizes[i] = n; // lz4 runs first in every pass
                r.stored += n == 0 ? kPageSize : (n + 15) / 16 * 16; // the store's 16-byte classes
                r.raw += n == 0;
                r.raw_but_lz4_fits += n == 0 && lz4_sizes[i] != 0;
            }
            r.compress_seconds.push_back(cpu_seconds() - start);
        }
        // Decompress: lz4's and adaptive's own output, every page not stored raw, verified.
        for (std::size_t which : {std::size_t{0}, techniques.size() - 1}) {
            Codec& codec = which == 0 ? **lz4_codec : **adaptive_codec;
            std::vector<std::vector<std::byte>> blobs(count);
            for (std::size_t i = 0; i < count; ++i) {
                const std::size_t n = codec.compress(page(i), out);
                blobs[i].assign(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
            }
            std::size_t decoded = 0;
            const double start = cpu_seconds();
            for (std::size_t i = 0; i < count; ++i) {
                if (blobs[i].empty()) continue;
                if (!codec.decompress(blobs[i], back)) return 2;
                ++decoded;
            }
            const double seconds = cpu_seconds() - start;
            results[which].decode_us_per_page.push_back(seconds * 1e6 / static_cast<double>(decoded));
            for (std::size_t i = 0; i < count; ++i) {
                if (blobs[i].empty()) continue;
                if (!codec.decompress(blobs[i], back) ||
                    std::memcmp(back.data(), page(i).data(), kPageSize) != 0) {
                    std::fprintf(stderr, "%s: page %zu does not round-trip\n",
                                 std::string(codec.name()).c_str(), i);
                    return 2;
                }
            }
        }
    }

    // The byte-planes threshold: ratio if pages went to byte planes at other values of the
    // best byte position's repeats (favours_byte_planes uses 88 of 128 sampled pairs).
    std::vector<std::size_t> plain_size(count), planes_size(count);
    std::vector<unsigned> repeats(count);
    for (std::size_t i = 0; i < count; ++i) {
        const WordPairSample sample = sample_word_pairs(page(i));
        repeats[i] = *std::max_element(sample.equal_bytes.begin(), sample.equal_bytes.end()) -
                     sample.equal_words;
        const int plain = lz4.compress(page(i), std::span(out).subspan(1));
        split_byte_planes(page(i), planes);
        const int split = lz4.compress(planes, std::span(out).subspan(1));
        plain_size[i] = plain > 0 ? (static_cast<std::size_t>(plain) + 1 + 15) / 16 * 16 : kPageSize;
        planes_size[i] = split > 0 ? (static_cast<std::size_t>(split) + 1 + 15) / 16 * 16 : kPageSize;
    }
    // The shortlist (favours_byte_planes) against the per-page truth: how many shortlisted pages
    // compress worse as planes, and what the better of the two on each shortlisted page gives.
    std::size_t shortlisted = 0, worse_as_planes = 0, best_of_both = 0, best_everywhere = 0;
    for (std::size_t i = 0; i < count; ++i) {
        best_everywhere += std::min(plain_size[i], planes_size[i]);
        if (!favours_byte_planes(sample_word_pairs(page(i)))) {
            best_of_both += plain_size[i];
            continue;
        }
        ++shortlisted;
        worse_as_planes += planes_size[i] > plain_size[i];
        best_of_both += std::min(plain_size[i], planes_size[i]);
    }
    const auto ratio = [&](std::size_t bytes) {
        return static_cast<double>(count * kPageSize) / static_cast<double>(bytes);
    };
    std::printf("shortlisted for byte planes: %zu of %zu pages, %zu of them worse as planes; codec "
                "ratio with the better of the two on shortlisted pages %.4f, on every page %.4f\n",
                shortlisted, count, worse_as_planes, ratio(best_of_both), ratio(best_everywhere));
    std::printf("byte planes when the best byte position repeats in >= T of 128 sampled pairs:\n");
    for (unsigned threshold = 60; threshold <= 128; threshold += 4) {
        std::size_t stored = 0;
        for (std::size_t i = 0; i < count; ++i)
            stored += repeats[i] >= threshold ? planes_size[i] : plain_size[i];
        const auto taken = std::count_if(repeats.begin(), repeats.end(),
                                         [&](unsigned r) { return r >= threshold; });
        std::printf("  T=%3u codec ratio %.4f, %zu pages to byte planes\n", threshold,
                    static_cast<double>(count * kPageSize) / static_cast<double>(stored),
                    static_cast<std::size_t>(taken));
    }

    const double mb = static_cast<double>(count * kPageSize) / 1e6;
    std::printf("%zu pages compressed (%zu same-filled left out), capacity %zu, %d passes; "
                "raw verdict without a full lz4 call: %zu pages\n",
                count, same_filled, kStoreCapacity, passes, verdicts / static_cast<std::size_t>(passes));
    std::printf("| technique | stored bytes | codec ratio | raw pages | raw though lz4 fits | compress MB/s (CPU time) | decode us/page (CPU time) |\n");
    std::printf("|---|---|---|---|---|---|---|\n");
    for (const Measurement& r : results) {
        const double d = median(r.decode_us_per_page);
        std::printf("| %s | %zu | %.4f | %zu | %zu | %.1f | %s |\n", r.name.c_str(), r.stored,
                    static_cast<double>(count * kPageSize) / static_cast<double>(r.stored), r.raw,
                    r.raw_but_lz4_fits, mb / median(r.compress_seconds),
                    d > 0 ? std::to_string(d).substr(0, 5).c_str() : "-");
    }
    return 0;
}
