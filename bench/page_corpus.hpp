// Loads a benchmark corpus: a file of raw 4096-byte pages, or a zstd stream of them
// (recognised by its magic bytes), decompressed on the fly into one contiguous buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "trueno/page.hpp"
#include "trueno/result.hpp"

namespace trueno::bench {

enum class CorpusFormat { raw, zstd };

// The pages, held once in memory so the read-back can be compared with them.
class PageCorpus {
public:
    PageCorpus() = default;
    PageCorpus(std::vector<std::byte> bytes, CorpusFormat format)
        : bytes_(std::move(bytes)), format_(format) {}

    std::uint64_t page_count() const { return bytes_.size() / kPageSize; }
    std::span<const std::byte> bytes() const { return bytes_; }
    PageView page(std::uint64_t index) const {
        return PageView(bytes_.data() + index * kPageSize, kPageSize);
    }
    CorpusFormat format() const { return format_; }

private:
    std::vector<std::byte> bytes_;
    CorpusFormat format_ = CorpusFormat::raw;
};

struct CorpusOptions {
    std::uint64_t page_limit = 0; // 0 = every page in the file
    // Called now and then with the bytes of pages loaded so far (for a progress bar).
    std::function<void(std::uint64_t)> on_progress;
};

// True when the first bytes are a zstd frame's magic number (28 b5 2f fd).
bool has_zstd_magic(std::span<const std::byte> head);

// Reads the file. Errors: unreadable file (errno), a corrupt zstd stream or a trailing partial
// page (EINVAL, naming how many bytes are left over), an empty file (EINVAL).
Result<PageCorpus> load_corpus(const std::string& path, const CorpusOptions& options = {});

} // namespace trueno::bench
