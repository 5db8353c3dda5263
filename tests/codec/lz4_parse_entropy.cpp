// lz4-parse-entropy: how far entropy coding could take lz4's own parse of memory pages; a bound
// for a write-path codec that keeps lz4's matching. Not a test: a measurement for
// tests/bench/RESULTS.md ("Where lz4's bytes are").
//
//   build/tests/codec/lz4-parse-entropy [--train A.pages.zst,B.pages.zst] CORPUS...
//
// Every page that is not same-filled and that lz4 fits under the store's limit is compressed
// with lz4, and its block is split into four streams: literals, literal lengths, match lengths
// and offsets. An offset equal to one of the page's three previous ones becomes a repeat code,
// as in zstd. A length or offset is coded as a bucket (the value itself below 16, else its bit
// length) plus its low bits stored raw. The tool reports lz4's bytes against the order-0
// entropy of the four streams (and of the literals alone, the rest left as lz4 wrote it), with
// two kinds of table:
// - tables of the corpus itself (as if each store trained its own);
// - with --train, tables of other corpora (as if a table were frozen into the format).
// Bounds, not a codec: no table is stored per page, and code lengths are not rounded to bits.
#include <lz4.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "corpus_pages.hpp"
#include "trueno/page.hpp"

namespace {

using namespace trueno;

constexpr int kStoreCapacity = 3631; // kHugeSize - 1 (lib/store/compressed_page_store.hpp)
constexpr std::size_t kSymbols = 64;  // repeat codes and buckets stay below this
constexpr unsigned kRepeatCodes = 3;

using Histogram = std::array<std::size_t, 256>;

struct Streams {
    Histogram literals{}, literal_lengths{}, match_lengths{}, offsets{};
    double raw_bits = 0; // the low bits of lengths and offsets, stored as they are
    std::size_t pages = 0, lz4_bytes = 0, literal_bytes = 0, sequences = 0, repeats = 0;
};

unsigned bit_length(std::size_t v) { return 64 - static_cast<unsigned>(__builtin_clzll(v)); }

// The bucket of a length or offset, and the raw bits that go with it.
unsigned bucket(std::size_t value, double& raw_bits) {
    if (value < 16) return static_cast<unsigned>(value);
    raw_bits += bit_length(value) - 1;
    return 16 + bit_length(value);
}

// One lz4 block: sequences of a token, literal length bytes, literals and (but for the last) a
// 2-byte offset and match length bytes.
void add_block(std::span<const unsigned char> block, Streams& s) {
    std::size_t at = 0;
    std::array<std::size_t, kRepeatCodes> recent{}; // 0: none yet (lz4 offsets are >= 1)
    const auto extended = [&](std::size_t length) {
        for (unsigned char more = 255; more == 255 && at < block.size(); length += more)
            more = block[at++];
        return length;
    };
    while (at < block.size()) {
        const unsigned token = block[at++];
        std::size_t literals = token >> 4;
        if (literals == 15) literals = extended(literals);
        for (std::size_t i = 0; i < literals && at + i < block.size(); ++i) ++s.literals[block[at + i]];
        at += literals;
        s.literal_bytes += literals;
        ++s.literal_lengths[bucket(literals, s.raw_bits)];
        if (at + 2 > block.size()) break;
        const std::size_t offset = block[at] | (std::size_t{block[at + 1]} << 8);
        at += 2;
        std::size_t match = token & 15;
        if (match == 15) match = extended(match);
        ++s.match_lengths[bucket(match + 4, s.raw_bits)];
        ++s.sequences;
        unsigned repeat = 0;
        while (repeat < kRepeatCodes && recent[repeat] != offset) ++repeat;
        if (repeat < kRepeatCodes) {
            ++s.offsets[repeat];
            ++s.repeats;
        } else {
            ++s.offsets[kRepeatCodes + bucket(offset, s.raw_bits)];
        }
        if (repeat != 0) { // the offset moves to the front
            for (unsigned i = std::min(repeat, kRepeatCodes - 1); i > 0; --i) recent[i] = recent[i - 1];
            recent[0] = offset;
        }
    }
}

Streams measure(const char* path) {
    Streams s;
    std::size_t same_filled = 0;
    const std::vector<std::byte> pages = test::load_corpus_pages(path, same_filled);
    LZ4_stream_t state;
    std::array<unsigned char, kPageSize> out{};
    for (std::size_t at = 0; at + kPageSize <= pages.size(); at += kPageSize) {
        const int n = LZ4_compress_fast_extState(&state, reinterpret_cast<const char*>(pages.data() + at),
                                                 reinterpret_cast<char*>(out.data()),
                                                 static_cast<int>(kPageSize), kStoreCapacity, 1);
        if (n <= 0) continue;
        ++s.pages;
        s.lz4_bytes += static_cast<std::size_t>(n);
        add_block(std::span(out).first(static_cast<std::size_t>(n)), s);
    }
    return s;
}

// Bits to code `data` with a table made from `table` (add-half smoothing over `alphabet`).
double coded_bits(const Histogram& data, const Histogram& table, std::size_t alphabet) {
    double total = 0;
    for (std::size_t n : table) total += static_cast<double>(n);
    double bits = 0;
    for (std::size_t symbol = 0; symbol < data.size(); ++symbol) {
        if (data[symbol] == 0) continue;
        const double p = (static_cast<double>(table[symbol]) + 0.5) /
                         (total + 0.5 * static_cast<double>(alphabet));
        bits -= static_cast<double>(data[symbol]) * std::log2(p);
    }
    return bits;
}

// Bytes of the four streams coded with the tables of `table`.
double coded_bytes(const Streams& data, const Streams& table) {
    return (coded_bits(data.literals, table.literals, 256) +
            coded_bits(data.literal_lengths, table.literal_lengths, kSymbols) +
            coded_bits(data.match_lengths, table.match_lengths, kSymbols) +
            coded_bits(data.offsets, table.offsets, kSymbols) + data.raw_bits) /
           8;
}

void add_into(Streams& sum, const Streams& s) {
    for (auto [to, from] : {std::pair{&sum.literals, &s.literals},
                            std::pair{&sum.literal_lengths, &s.literal_lengths},
                            std::pair{&sum.match_lengths, &s.match_lengths},
                            std::pair{&sum.offsets, &s.offsets}})
        for (std::size_t i = 0; i < to->size(); ++i) (*to)[i] += (*from)[i];
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> train;
    int first = 1;
    if (argc > 2 && std::strcmp(argv[1], "--train") == 0) {
        std::string list = argv[2];
        for (std::size_t at = 0; at <= list.size();) {
            const std::size_t comma = std::min(list.find(',', at), list.size());
            if (comma > at) train.push_back(list.substr(at, comma - at));
            at = comma + 1;
        }
        first = 3;
    }
    if (first >= argc) {
        std::fprintf(stderr, "usage: %s [--train A.pages.zst,B.pages.zst] CORPUS...\n", argv[0]);
        return 2;
    }
    Streams trained;
    for (const std::string& path : train) {
        const Streams s = measure(path.c_str());
        if (s.pages == 0) return 1;
        add_into(trained, s);
    }
    std::printf("| corpus | pages lz4 fits | lz4 bytes | literals | sequences a page | repeat offsets "
                "| literals alone coded: x lz4 | own tables: x lz4 | %s |\n"
                "|---|---|---|---|---|---|---|---|---|\n",
                train.empty() ? "-" : "tables of --train: x lz4");
    for (int i = first; i < argc; ++i) {
        const Streams s = measure(argv[i]);
        if (s.pages == 0) return 1;
        const double lz4 = static_cast<double>(s.lz4_bytes);
        const std::string trained_column =
            train.empty() ? "-" : std::to_string(lz4 / coded_bytes(s, trained)).substr(0, 5);
        const double literals_alone =
            lz4 - static_cast<double>(s.literal_bytes) + coded_bits(s.literals, s.literals, 256) / 8;
        std::printf("| %s | %zu | %zu | %.1f %% | %.1f | %.1f %% | %.3f | %.3f | %s |\n", argv[i],
                    s.pages,
                    s.lz4_bytes, 100.0 * static_cast<double>(s.literal_bytes) / lz4,
                    static_cast<double>(s.sequences) / static_cast<double>(s.pages),
                    100.0 * static_cast<double>(s.repeats) / static_cast<double>(s.sequences),
                    lz4 / literals_alone, lz4 / coded_bytes(s, s), trained_column.c_str());
    }
    return 0;
}
