#include "page_corpus.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace trueno::bench {
namespace {

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

struct ZstdDctxDeleter {
    void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};
using ZstdDctx = std::unique_ptr<ZSTD_DCtx, ZstdDctxDeleter>;

Error io_error(const std::string& path, const char* what, int err) {
    return make_error(err, path + ": " + what + ": " + std::strerror(err));
}

// Reads up to buffer.size() bytes, retrying short reads until EOF; returns bytes read.
Result<std::size_t> read_fully(int fd, std::span<std::byte> buffer, const std::string& path) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        ssize_t n = ::read(fd, buffer.data() + done, buffer.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return io_error(path, "read", errno);
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

// Collects decompressed or raw bytes, stopping at the page limit.
class PageSink {
public:
    PageSink(std::uint64_t page_limit, const CorpusOptions& options)
        : limit_bytes_(page_limit ? page_limit * kPageSize : 0), options_(options) {}

    void reserve(std::uint64_t expected_bytes) {
        if (limit_bytes_) expected_bytes = std::min(expected_bytes, limit_bytes_);
        bytes_.reserve(expected_bytes);
    }
    // Appends; returns false once the limit is reached (the rest of the input is ignored).
    bool append(std::span<const std::byte> data) {
        if (limit_bytes_) {
            std::uint64_t room = limit_bytes_ - bytes_.size();
            data = data.first(static_cast<std::size_t>(std::min<std::uint64_t>(room, data.size())));
        }
        bytes_.insert(bytes_.end(), data.begin(), data.end());
        if (options_.on_progress && bytes_.size() - reported_ >= (8u << 20)) {
            reported_ = bytes_.size();
            options_.on_progress(reported_);
        }
        return !full();
    }
    bool full() const { return limit_bytes_ && bytes_.size() >= limit_bytes_; }
    std::vector<std::byte>& bytes() { return bytes_; }

private:
    std::uint64_t limit_bytes_;
    const CorpusOptions& options_;
    std::vector<std::byte> bytes_;
    std::uint64_t reported_ = 0;
};

constexpr std::size_t kReadChunk = 1u << 20;
// ZSTD_FRAMEHEADERSIZE_MAX, which zstd.h only exposes to static-linking users.
constexpr std::size_t kZstdFrameHeaderMax = 18;

Status load_raw(int fd, const std::string& path, std::span<const std::byte> head, PageSink& sink) {
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) sink.reserve(static_cast<std::uint64_t>(st.st_size));
    if (!sink.append(head)) return {};
    std::vector<std::byte> chunk(kReadChunk);
    for (;;) {
        auto n = read_fully(fd, chunk, path);
        if (!n) return n.error();
        if (*n == 0) return {};
        if (!sink.append(std::span(chunk).first(*n))) return {};
    }
}

Status load_zstd(int fd, const std::string& path, std::span<const std::byte> head, PageSink& sink) {
    ZstdDctx dctx(ZSTD_createDCtx());
    if (!dctx) return make_error(ENOMEM, "cannot allocate a zstd decompression context");

    unsigned long long content = ZSTD_getFrameContentSize(head.data(), head.size());
    if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR) sink.reserve(content);

    std::vector<std::byte> in_buf(std::max(kReadChunk, ZSTD_DStreamInSize()));
    std::vector<std::byte> out_buf(ZSTD_DStreamOutSize());
    std::copy(head.begin(), head.end(), in_buf.begin());
    std::size_t in_len = head.size();
    std::size_t last_ret = 0;
    bool eof = false;
    while (!eof || in_len > 0) {
        ZSTD_inBuffer in{in_buf.data(), in_len, 0};
        while (in.pos < in.size) {
            ZSTD_outBuffer out{out_buf.data(), out_buf.size(), 0};
            last_ret = ZSTD_decompressStream(dctx.get(), &out, &in);
            if (ZSTD_isError(last_ret))
                return make_error(EINVAL, path + ": corrupt zstd stream: " + ZSTD_getErrorName(last_ret));
            if (!sink.append(std::span(out_buf).first(out.pos))) return {};
        }
        // Flush whatever the decoder still holds for input it has consumed.
        for (;;) {
            ZSTD_outBuffer out{out_buf.data(), out_buf.size(), 0};
            ZSTD_inBuffer none{nullptr, 0, 0};
            std::size_t ret = ZSTD_decompressStream(dctx.get(), &out, &none);
            if (ZSTD_isError(ret))
                return make_error(EINVAL, path + ": corrupt zstd stream: " + ZSTD_getErrorName(ret));
            // With no input and no output the return is only a hint for the next frame.
            if (out.pos == 0) break;
            last_ret = ret;
            if (!sink.append(std::span(out_buf).first(out.pos))) return {};
            if (out.pos < out_buf.size()) break;
        }
        auto n = read_fully(fd, in_buf, path);
        if (!n) return n.error();
        in_len = *n;
        eof = (*n == 0);
    }
    if (last_ret != 0) return make_error(EINVAL, path + ": truncated zstd stream (the last frame is incomplete)");
    return {};
}

} // namespace

bool has_zstd_magic(std::span<const std::byte> head) {
    static constexpr std::array<std::byte, 4> magic{std::byte{0x28}, std::byte{0xb5}, std::byte{0x2f},
                                                    std::byte{0xfd}};
    return head.size() >= magic.size() && std::equal(magic.begin(), magic.end(), head.begin());
}

Result<PageCorpus> load_corpus(const std::string& path, const CorpusOptions& options) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return io_error(path, "cannot open", errno);

    // Enough of the start to tell the format and, for zstd, read the frame header.
    std::array<std::byte, kZstdFrameHeaderMax> head_buf{};
    auto head_len = read_fully(fd.get(), head_buf, path);
    if (!head_len) return head_len.error();
    std::span<const std::byte> head = std::span(head_buf).first(*head_len);
    if (head.empty()) return make_error(EINVAL, path + ": the file is empty (no pages)");

    const CorpusFormat format = has_zstd_magic(head) ? CorpusFormat::zstd : CorpusFormat::raw;
    PageSink sink(options.page_limit, options);
    Status st = format == CorpusFormat::zstd ? load_zstd(fd.get(), path, head, sink)
                                             : load_raw(fd.get(), path, head, sink);
    if (!st) return st.error();

    auto& bytes = sink.bytes();
    if (bytes.size() % kPageSize != 0)
        return make_error(EINVAL, path + ": ends with a partial page (" + std::to_string(bytes.size() % kPageSize) +
                                      " bytes after " + std::to_string(bytes.size() / kPageSize) +
                                      " whole pages); the input must be whole 4096-byte pages");
    if (bytes.empty()) return make_error(EINVAL, path + ": holds no pages");
    if (options.on_progress) options.on_progress(bytes.size());
    return PageCorpus(std::move(bytes), format);
}

} // namespace trueno::bench
