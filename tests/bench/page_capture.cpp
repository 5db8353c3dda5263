#include "page_capture.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "process_maps.hpp"
#include "trueno/page.hpp"
#include "unique_fd.hpp"

namespace trueno::bench {
namespace {

constexpr std::uint64_t kPresentBit = 1ull << 63;
constexpr std::uint64_t kSwappedBit = 1ull << 62;
// Pages looked up and read per system call: 2 MiB of memory, 4 KiB of pagemap.
constexpr std::size_t kBatchPages = 512;

std::string proc_path(pid_t pid, const char* file) {
    return "/proc/" + std::to_string(pid) + "/" + file;
}

Error access_error(pid_t pid, const std::string& path, int err) {
    if (err == ENOENT || err == ESRCH)
        return make_error(ESRCH, "no process " + std::to_string(pid));
    if (err == EACCES || err == EPERM)
        return make_error(err, path + ": " + std::strerror(err) +
                                   ": reading another process's memory needs root, or ptrace "
                                   "access (same user and kernel.yama.ptrace_scope=0)");
    return make_error(err, path + ": " + std::strerror(err));
}

// A zombie still has its /proc entry but no memory: its maps are empty.
bool is_zombie(pid_t pid) {
    UniqueFd fd(::open(proc_path(pid, "stat").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return true;
    char buf[512];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return true;
    std::string_view stat(buf, static_cast<std::size_t>(n));
    std::size_t paren = stat.rfind(')'); // the command name may contain spaces and parentheses
    if (paren == std::string_view::npos || paren + 2 >= stat.size()) return true;
    char state = stat[paren + 2];
    return state == 'Z' || state == 'X';
}

// pread until `bytes` are read. Returns the bytes read: fewer means the end of what the file
// gives (for /proc/PID/mem and pagemap: the process's memory is gone), or an errno.
Result<std::size_t> pread_fully(int fd, void* buffer, std::size_t bytes, std::uint64_t offset) {
    std::size_t done = 0;
    while (done < bytes) {
        ssize_t n = ::pread(fd, static_cast<char*>(buffer) + done, bytes - done,
                            static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            if (done > 0) break; // report what was read; the next call reports the error
            int err = errno;
            return make_error(err, std::strerror(err));
        }
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    return done;
}

bool is_zero_page(std::span<const std::byte> page) {
    return std::all_of(page.begin(), page.end(), [](std::byte b) { return b == std::byte{0}; });
}

class Capture {
public:
    Capture(pid_t pid, const CaptureOptions& options, const PageWriter& write_page)
        : pid_(pid), options_(options), write_page_(write_page),
          buffer_(kBatchPages * kPageSize) {}

    Result<CaptureStats> run() {
        auto maps = read_process_maps(pid_);
        if (!maps) return access_error(pid_, proc_path(pid_, "maps"), maps.error().code);
        if (maps->empty() && is_zombie(pid_))
            return make_error(ESRCH, "process " + std::to_string(pid_) +
                                         " has exited (a zombie: no memory left)");
        stats_.mappings = maps->size();

        const std::string pagemap_path = proc_path(pid_, "pagemap");
        pagemap_ = UniqueFd(::open(pagemap_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!pagemap_) return access_error(pid_, pagemap_path, errno);
        const std::string mem_path = proc_path(pid_, "mem");
        mem_ = UniqueFd(::open(mem_path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!mem_) return access_error(pid_, mem_path, errno);

        stats_.anonymous_mappings = static_cast<std::uint64_t>(
            std::count_if(maps->begin(), maps->end(), is_anonymous_private));
        for (const Mapping& mapping : *maps) {
            if (!is_anonymous_private(mapping)) continue;
            Status st = capture_mapping(mapping);
            if (!st) return st.error();
            if (stats_.process_exited || stats_.limit_reached) break;
        }
        return stats_;
    }

private:
    Status capture_mapping(const Mapping& mapping) {
        std::vector<std::uint64_t> entries(kBatchPages);
        for (std::uint64_t addr = mapping.start; addr < mapping.end;) {
            const std::size_t count = static_cast<std::size_t>(
                std::min<std::uint64_t>(kBatchPages, (mapping.end - addr) / kPageSize));
            const std::size_t bytes = count * sizeof(std::uint64_t);
            auto n = pread_fully(pagemap_.get(), entries.data(), bytes,
                                 addr / kPageSize * sizeof(std::uint64_t));
            if (!n) return make_error(n.error().code, proc_path(pid_, "pagemap") + ": " +
                                                          n.error().message);
            if (*n < bytes) {
                stats_.process_exited = true; // no mm left to walk
                return {};
            }
            stats_.pages_mapped += count;
            // Read each run of present pages with one pread.
            for (std::size_t i = 0; i < count;) {
                if (entries[i] & kSwappedBit) ++stats_.pages_swapped;
                if (!(entries[i] & kPresentBit)) {
                    ++i;
                    continue;
                }
                std::size_t run = 1;
                while (i + run < count && (entries[i + run] & kPresentBit)) ++run;
                stats_.pages_present += run;
                Status st = capture_run(addr + i * kPageSize, run);
                if (!st) return st;
                if (stats_.process_exited || stats_.limit_reached) return {};
                i += run;
            }
            addr += count * kPageSize;
        }
        return {};
    }

    Status capture_run(std::uint64_t addr, std::size_t pages) {
        auto n = pread_fully(mem_.get(), buffer_.data(), pages * kPageSize, addr);
        std::size_t whole = n ? *n / kPageSize : 0;
        if (n && *n == 0) {
            stats_.process_exited = true;
            return {};
        }
        for (std::size_t p = 0; p < whole; ++p) {
            Status st = emit(std::span(buffer_).subspan(p * kPageSize, kPageSize));
            if (!st || stats_.limit_reached) return st;
        }
        // A page that failed (EIO: unmapped since pagemap was read): retry page by page.
        for (std::size_t p = whole; p < pages; ++p) {
            auto one = pread_fully(mem_.get(), buffer_.data(), kPageSize, addr + p * kPageSize);
            if (one && *one == 0) {
                stats_.process_exited = true;
                return {};
            }
            if (!one || *one < kPageSize) {
                if (is_zombie(pid_)) {
                    stats_.process_exited = true;
                    return {};
                }
                ++stats_.pages_vanished;
                continue;
            }
            Status st = emit(std::span(buffer_).first(kPageSize));
            if (!st || stats_.limit_reached) return st;
        }
        return {};
    }

    Status emit(std::span<const std::byte> page) {
        Status st = write_page_(page);
        if (!st) return st;
        ++stats_.pages_written;
        if (is_zero_page(page)) ++stats_.zero_pages;
        if (options_.max_pages && stats_.pages_written >= options_.max_pages)
            stats_.limit_reached = true;
        return {};
    }

    pid_t pid_;
    const CaptureOptions& options_;
    const PageWriter& write_page_;
    std::vector<std::byte> buffer_;
    UniqueFd pagemap_;
    UniqueFd mem_;
    CaptureStats stats_;
};

} // namespace

Result<CaptureStats> capture_pages(pid_t pid, const CaptureOptions& options,
                                   const PageWriter& write_page) {
    return Capture(pid, options, write_page).run();
}

} // namespace trueno::bench
