// capture-pages: writes the resident anonymous pages of a running process, raw 4096 bytes each,
// to a file or stdout: a page corpus for trueno-zram-bench (`capture-pages PID - | zstd`).
// Pages not in RAM (never touched, or swapped out) are skipped, so a corpus holds what a swap
// device would be given, not reserved address space.
//
// Exit status: 0 success, 1 the capture failed or is partial (the process exited mid-capture;
// --allow-partial accepts it), 2 bad usage, no such process or no access to it.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>

#include "page_capture.hpp"
#include "trueno/page.hpp"
#include "unique_fd.hpp"

namespace {

using namespace trueno;
using namespace trueno::bench;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int fail(int code, const std::string& message) {
    std::cerr << "capture-pages: " << message << "\n";
    return code;
}

Status write_fully(int fd, std::span<const std::byte> data, const std::string& name) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int err = errno;
            return make_error(err, name + ": write: " + std::strerror(err));
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

std::string mib(std::uint64_t pages) {
    std::ostringstream out;
    out.precision(1);
    out << std::fixed << static_cast<double>(pages * kPageSize) / (1 << 20) << " MiB";
    return out.str();
}

std::string process_name(pid_t pid) {
    std::string name;
    UniqueFd fd(::open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_RDONLY | O_CLOEXEC));
    char buf[64];
    ssize_t n = fd ? ::read(fd.get(), buf, sizeof buf) : -1;
    if (n > 0) name.assign(buf, static_cast<std::size_t>(n));
    while (!name.empty() && name.back() == '\n') name.pop_back();
    return name.empty() ? "?" : name;
}

void print_summary(pid_t pid, const std::string& name, const CaptureStats& s) {
    std::cerr << "capture-pages: pid " << pid << " (" << name << "): " << s.mappings
              << " mappings, " << s.anonymous_mappings << " anonymous private; " << s.pages_mapped
              << " pages mapped, " << s.pages_present << " present, " << s.pages_swapped
              << " swapped (skipped), " << s.pages_vanished << " vanished; " << s.pages_written
              << " pages written (" << mib(s.pages_written) << "), " << s.zero_pages
              << " zero pages" << (s.limit_reached ? "; stopped at --max-mib" : "") << "\n";
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Writes the resident anonymous pages (heap, stacks, anonymous mmaps; only pages "
                 "present in RAM) of a running process as raw 4096-byte pages: a corpus for "
                 "trueno-zram-bench. Needs root or ptrace access to the process."};
    pid_t pid = 0;
    std::string output;
    std::uint64_t max_mib = 0;
    bool allow_partial = false;
    app.add_option("PID", pid, "the process to capture")->required()->check(CLI::PositiveNumber);
    app.add_option("OUTPUT", output, "file to write (replaced), or - for stdout")->required();
    app.add_option("--max-mib", max_mib, "stop after this many MiB of pages (0 = all)")
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--allow-partial", allow_partial,
                 "succeed with what was captured if the process exits mid-capture");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : kExitUsage;
    }

    // A closed pipe (`| head`) is an error to report, not a silent death.
    ::signal(SIGPIPE, SIG_IGN);
    const bool to_stdout = output == "-";
    const std::string output_name = to_stdout ? "stdout" : output;
    UniqueFd file;
    if (!to_stdout) {
        file = UniqueFd(::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!file) return fail(kExitUsage, output + ": " + std::strerror(errno));
    }
    const int out_fd = to_stdout ? STDOUT_FILENO : file.get();
    // A failed capture leaves no file that could pass for a corpus.
    auto discard_output = [&] {
        if (!to_stdout) ::unlink(output.c_str());
    };

    const std::string name = process_name(pid);
    CaptureOptions options;
    options.max_pages = max_mib * (1u << 20) / kPageSize;
    PageWriter writer = [&](std::span<const std::byte> page) {
        return write_fully(out_fd, page, output_name);
    };
    auto stats = capture_pages(pid, options, writer);
    if (!stats) {
        discard_output();
        const int code = stats.error().code;
        const bool about_process = code == ESRCH || code == EACCES || code == EPERM;
        return fail(about_process ? kExitUsage : kExitFailed, stats.error().message);
    }
    print_summary(pid, name, *stats);
    if (stats->process_exited) {
        if (!allow_partial) {
            discard_output();
            return fail(kExitFailed, "partial capture: process " + std::to_string(pid) +
                                         " exited after " + std::to_string(stats->pages_written) +
                                         " pages; output discarded (--allow-partial keeps it)");
        }
        std::cerr << "capture-pages: partial capture: process " << pid << " exited after "
                  << stats->pages_written << " pages (kept: --allow-partial)\n";
    }
    if (stats->pages_written == 0) {
        discard_output();
        return fail(kExitFailed, "no resident anonymous pages in process " + std::to_string(pid));
    }
    return 0;
}
