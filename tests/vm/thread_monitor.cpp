// thread-monitor PID PERIOD_S [DEVICE...]: for hang diagnosis in the VM. Every PERIOD_S seconds
// prints to stdout (the serial console) memory and swap counters, each thread of PID with its
// state, wait channel and kernel stack, and the in-flight requests and busy tags of each block
// DEVICE (e.g. ublkb0). When swap I/O makes no progress for three periods it also asks the
// kernel (sysrq w) to print every blocked task's stack.
//
// It must keep printing while the rest of the guest is stuck at the min watermark: it locks
// all its memory up front, never allocates (static buffers, raw syscalls; statically linked),
// and keeps its files open, so it rarely enters reclaim itself (the kernel still allocates a
// little per read, e.g. for a stack trace).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

// One report, written with a single write() per section.
char g_out[1 << 16];
std::size_t g_used = 0;
char g_file[1 << 14];

void flush()
{
    std::size_t done = 0;
    while (done < g_used) {
        const ssize_t n = write(STDOUT_FILENO, g_out + done, g_used - done);
        if (n <= 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    g_used = 0;
}

void emit(const char* text, std::size_t n)
{
    if (g_used + n > sizeof(g_out))
        flush();
    n = n > sizeof(g_out) ? sizeof(g_out) : n;
    std::memcpy(g_out + g_used, text, n);
    g_used += n;
}

void emit(const char* text) { emit(text, std::strlen(text)); }

// Files stay open between periods and are re-read from offset 0: opening a file allocates in
// the kernel, which under the hang being watched would block this monitor too.
struct OpenFile {
    char path[160];
    int fd;
};
OpenFile g_open[256];
std::size_t g_open_count = 0;

int cached_fd(const char* path)
{
    for (std::size_t i = 0; i < g_open_count; ++i)
        if (std::strcmp(g_open[i].path, path) == 0)
            return g_open[i].fd;
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || g_open_count == sizeof(g_open) / sizeof(g_open[0]))
        return fd;
    std::snprintf(g_open[g_open_count].path, sizeof(g_open[0].path), "%s", path);
    g_open[g_open_count++].fd = fd;
    return fd;
}

// Reads a whole small file into g_file (NUL-terminated); -1 if it cannot be read.
ssize_t slurp(const char* path)
{
    const int fd = cached_fd(path);
    if (fd < 0)
        return -1;
    ssize_t total = 0;
    for (;;) {
        const ssize_t n = pread(fd, g_file + total, sizeof(g_file) - 1 - static_cast<std::size_t>(total), total);
        if (n <= 0)
            break;
        total += n;
    }
    g_file[total] = '\0';
    return total;
}

// The numeric value after "key" in g_file (meminfo/vmstat layout), or -1.
long long value_of(const char* key)
{
    const char* at = std::strstr(g_file, key);
    if (!at)
        return -1;
    at += std::strlen(key);
    while (*at == ' ' || *at == ':' || *at == '\t')
        ++at;
    return std::strtoll(at, nullptr, 10);
}

// Emits each line of g_file with a prefix.
void emit_lines(const char* prefix)
{
    char* line = g_file;
    while (*line) {
        char* end = std::strchr(line, '\n');
        const std::size_t n = end ? static_cast<std::size_t>(end - line) : std::strlen(line);
        emit(prefix);
        emit(line, n);
        emit("\n");
        if (!end)
            break;
        line = end + 1;
    }
}

void report_threads(const char* pid)
{
    char path[128];
    std::snprintf(path, sizeof(path), "/proc/%s/task", pid);
    const int dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) {
        emit("monitor: daemon gone\n");
        return;
    }
    alignas(8) char entries[8192];
    for (;;) {
        const long n = syscall(SYS_getdents64, dir, entries, sizeof(entries));
        if (n <= 0)
            break;
        for (long pos = 0; pos < n;) {
            struct Entry {
                std::uint64_t ino;
                std::int64_t off;
                unsigned short reclen;
                unsigned char type;
                char name[1];
            };
            const auto* e = reinterpret_cast<const Entry*>(entries + pos);
            pos += e->reclen;
            if (e->name[0] == '.')
                continue;
            char line[512];
            std::snprintf(path, sizeof(path), "/proc/%s/task/%s/stat", pid, e->name);
            char state[96] = "?";
            if (slurp(path) > 0) { // "tid (comm) S ...": comm and state
                const char* open_paren = std::strchr(g_file, '(');
                const char* close_paren = std::strrchr(g_file, ')');
                if (open_paren && close_paren && close_paren[1] && close_paren[2])
                    std::snprintf(state, sizeof(state), "%.*s %c",
                                  static_cast<int>(close_paren - open_paren + 1), open_paren, close_paren[2]);
            }
            std::snprintf(path, sizeof(path), "/proc/%s/task/%s/wchan", pid, e->name);
            const char* wchan = slurp(path) > 0 ? g_file : "?";
            std::snprintf(line, sizeof(line), "monitor: task %s %s wchan=%.64s\n", e->name, state, wchan);
            emit(line);
            std::snprintf(path, sizeof(path), "/proc/%s/task/%s/stack", pid, e->name);
            if (slurp(path) > 0)
                emit_lines("monitor:     ");
        }
    }
    close(dir);
}

void report_device(const char* name)
{
    char path[160];
    char line[256];
    std::snprintf(path, sizeof(path), "/sys/block/%s/inflight", name);
    if (slurp(path) > 0) {
        std::snprintf(line, sizeof(line), "monitor: %s inflight (reads writes): %.64s", name, g_file);
        emit(line);
    }
    // blk-mq debugfs: per hardware queue, the busy tag count and the requests held.
    for (int hctx = 0; hctx < 8; ++hctx) {
        std::snprintf(path, sizeof(path), "/sys/kernel/debug/block/%s/hctx%d/tags", name, hctx);
        if (slurp(path) <= 0)
            break;
        std::snprintf(line, sizeof(line), "monitor: %s hctx%d tags busy=%lld depth=%lld\n", name, hctx,
                      value_of("busy="), value_of("depth="));
        emit(line);
        std::snprintf(path, sizeof(path), "/sys/kernel/debug/block/%s/hctx%d/busy", name, hctx);
        if (slurp(path) > 0) {
            long lines = 0;
            for (const char* c = g_file; *c; ++c)
                lines += *c == '\n';
            const char* nl = std::strchr(g_file, '\n');
            std::snprintf(line, sizeof(line), "monitor: %s hctx%d %ld busy requests, first: %.*s\n", name,
                          hctx, lines, nl ? static_cast<int>(nl - g_file) : 0, g_file);
            emit(line);
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3 || std::atoi(argv[2]) <= 0) {
        std::fprintf(stderr, "usage: thread-monitor PID PERIOD_S [DEVICE...]\n");
        return 2;
    }
    const char* pid = argv[1];
    const unsigned period = static_cast<unsigned>(std::atoi(argv[2]));
    if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0)
        std::perror("thread-monitor: mlockall");
    (void)mount("debugfs", "/sys/kernel/debug", "debugfs", 0, nullptr); // may already be there

    long long last_swap_io = -1;
    int stalled = 0;
    for (unsigned tick = 0;; ++tick) {
        timespec now{};
        clock_gettime(CLOCK_MONOTONIC, &now);
        char line[512];
        long long pswpout = -1;
        long long pswpin = -1;
        if (slurp("/proc/vmstat") > 0) {
            pswpout = value_of("\npswpout ");
            pswpin = value_of("\npswpin ");
        }
        if (slurp("/proc/meminfo") > 0) {
            std::snprintf(line, sizeof(line),
                          "monitor: t=%ld MemFree %lld kB MemAvailable %lld Mlocked %lld AnonPages %lld "
                          "SwapFree %lld Writeback %lld pswpout %lld pswpin %lld\n",
                          static_cast<long>(now.tv_sec), value_of("MemFree"), value_of("MemAvailable"),
                          value_of("Mlocked"), value_of("AnonPages"), value_of("SwapFree"),
                          value_of("Writeback:"), pswpout, pswpin);
            emit(line);
        }
        report_threads(pid);
        for (int d = 3; d < argc; ++d)
            report_device(argv[d]);
        flush();

        // No swap traffic while memory is short: ask the kernel for every blocked task's stack.
        const long long swap_io = pswpout + pswpin;
        stalled = (swap_io == last_swap_io && pswpout > 0) ? stalled + 1 : 0;
        last_swap_io = swap_io;
        if (stalled == 3 || stalled == 20) {
            emit("monitor: no swap progress for 3 periods: sysrq w (blocked tasks)\n");
            flush();
            if (int fd = open("/proc/sys/kernel/printk", O_WRONLY | O_CLOEXEC); fd >= 0) {
                (void)!write(fd, "7", 1);
                close(fd);
            }
            if (int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC); fd >= 0) {
                (void)!write(fd, "w", 1);
                close(fd);
            }
        }
        sleep(period);
    }
}
