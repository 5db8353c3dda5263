// Tests of capture-pages: the maps parser and filter; a capture of a child process that fills
// known pages and reserves untouched ones (every known page is in the output, untouched ones are
// not); a child killed mid-capture (a partial capture, reported); the executable's errors for a
// missing process, a zombie and a process it may not read.
#include "catch_runner.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "page_capture.hpp"
#include "process_maps.hpp"
#include "trueno/page.hpp"

namespace {

using namespace trueno;
using namespace trueno::bench;

std::string g_exe; // the capture-pages executable, set in main()

// Under AddressSanitizer a forked child carries the sanitizer's shadow mappings: terabytes of
// anonymous address space whose pagemap entries a capture reads one by one (it timed out in
// the sanitizer stage). The captures of a child are skipped there, and said so.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kChildHasShadowMappings = true;
#else
constexpr bool kChildHasShadowMappings = false;
#endif
constexpr const char* kShadowSkip =
    "SKIP capturing a child under AddressSanitizer: its shadow mappings span terabytes of address space";

constexpr std::size_t kKnownPages = 300;
constexpr std::size_t kUntouchedPages = 16384; // 64 MiB reserved, never touched

// Page i of the child: distinct pseudo-random words (splitmix64), never all zero.
std::vector<std::byte> known_page(std::size_t index) {
    std::vector<std::byte> page(kPageSize);
    std::uint64_t x = 0x7472756e6f000000ull + index;
    for (std::size_t off = 0; off < kPageSize; off += 8) {
        std::uint64_t z = (x += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        std::memcpy(page.data() + off, &z, 8);
    }
    return page;
}

// A forked child holding kKnownPages known pages (in runs split by unmapped gaps, so the capture
// takes several reads) and an untouched reservation, until it is killed.
class FilledChild {
public:
    explicit FilledChild(std::size_t known_pages = kKnownPages) {
        int ready[2];
        REQUIRE(::pipe(ready) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::close(ready[0]);
            fill(known_pages);
            char c = 1;
            if (::write(ready[1], &c, 1) != 1) ::_exit(1);
            for (;;) ::pause();
        }
        ::close(ready[1]);
        char c = 0;
        ssize_t n = ::read(ready[0], &c, 1);
        ::close(ready[0]);
        REQUIRE(n == 1);
    }
    ~FilledChild() { kill_and_reap(); }
    FilledChild(const FilledChild&) = delete;
    FilledChild& operator=(const FilledChild&) = delete;

    pid_t pid() const { return pid_; }
    void kill_and_reap() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }

private:
    static void fill(std::size_t known_pages) {
        // Known pages in chunks of 100 with an unmapped page after each chunk.
        constexpr std::size_t kChunk = 100;
        for (std::size_t first = 0; first < known_pages; first += kChunk) {
            std::size_t pages = std::min(kChunk, known_pages - first);
            void* area = ::mmap(nullptr, (pages + 1) * kPageSize, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (area == MAP_FAILED) ::_exit(1);
            auto* bytes = static_cast<std::byte*>(area);
            ::munmap(bytes + pages * kPageSize, kPageSize);
            for (std::size_t i = 0; i < pages; ++i)
                std::memcpy(bytes + i * kPageSize, known_page(first + i).data(), kPageSize);
        }
        void* untouched = ::mmap(nullptr, kUntouchedPages * kPageSize, PROT_READ | PROT_WRITE,
                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (untouched == MAP_FAILED) ::_exit(1);
    }

    pid_t pid_ = -1;
};

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

struct Outcome {
    int status = -1;
    std::string out;
    std::string err;
};

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Runs a shell command line, capturing stdout and stderr.
Outcome run(const std::string& command) {
    char err_path[] = "/tmp/capture-pages-test-err-XXXXXX";
    int fd = ::mkstemp(err_path);
    REQUIRE(fd >= 0);
    ::close(fd);
    Outcome o;
    FILE* pipe = ::popen((command + " 2>" + err_path).c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) o.out.append(buf, n);
    int raw = ::pclose(pipe);
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
    o.err = read_file(err_path);
    ::unlink(err_path);
    return o;
}

std::set<std::string> pages_of(const std::string& bytes) {
    std::set<std::string> pages;
    for (std::size_t off = 0; off + kPageSize <= bytes.size(); off += kPageSize)
        pages.insert(bytes.substr(off, kPageSize));
    return pages;
}

std::size_t known_pages_in(const std::set<std::string>& pages, std::size_t known) {
    std::size_t found = 0;
    for (std::size_t i = 0; i < known; ++i) {
        auto page = known_page(i);
        found += pages.count(std::string(reinterpret_cast<const char*>(page.data()), kPageSize));
    }
    return found;
}

} // namespace

TEST_CASE("maps lines parse; only anonymous private readable mappings are taken", "[capture]") {
    auto heap = parse_maps_line("55d0c8a4e000-55d0c8a6f000 rw-p 00000000 00:00 0     [heap]");
    REQUIRE(heap);
    CHECK(heap->start == 0x55d0c8a4e000);
    CHECK(heap->end == 0x55d0c8a6f000);
    CHECK(heap->name == "[heap]");
    CHECK(is_anonymous_private(*heap));

    auto check = [](const char* line, bool taken) {
        auto m = parse_maps_line(line);
        REQUIRE(m);
        INFO(line);
        CHECK(is_anonymous_private(*m) == taken);
    };
    check("7f0000000000-7f0000021000 rw-p 00000000 00:00 0 ", true);
    check("7ffc1a2b3000-7ffc1a2d4000 rw-p 00000000 00:00 0    [stack]", true);
    check("7f0000000000-7f0000001000 rw-p 00000000 00:00 0    [anon:jvm heap]", true);
    check("7f0000000000-7f0000001000 rwxp 00000000 00:00 0 ", true); // JIT code
    check("7f0000000000-7f0000001000 ---p 00000000 00:00 0 ", false); // guard / reservation
    check("7f0000000000-7f0000001000 rw-s 00000000 00:01 1234 /dev/zero (deleted)", false);
    check("7f0000000000-7f0000001000 rw-s 00000000 00:00 0 ", false); // shared anonymous
    check("7f0000000000-7f0000001000 rw-p 0002c000 fd:01 393 /usr/lib/libc.so.6", false);
    check("7f0000000000-7f0000001000 r--p 00000000 00:00 0    [vvar]", false);
    check("7f0000000000-7f0000001000 r-xp 00000000 00:00 0    [vdso]", false);
    check("ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0  [vsyscall]", false);

    CHECK_FALSE(parse_maps_line("not a maps line"));
    CHECK_FALSE(parse_maps_line("7f00-7e00 rw-p 00000000 00:00 0"));
}

TEST_CASE("a child's known pages are captured, untouched pages are not", "[capture]") {
    if (kChildHasShadowMappings) {
        std::cout << kShadowSkip << "\n";
        return;
    }
    FilledChild child;
    char out_path[] = "/tmp/capture-pages-test-XXXXXX";
    int fd = ::mkstemp(out_path);
    REQUIRE(fd >= 0);
    ::close(fd);
    Outcome o = run(shell_quote(g_exe) + " " + std::to_string(child.pid()) + " " + out_path);
    std::string bytes = read_file(out_path);
    ::unlink(out_path);
    INFO(o.err);
    REQUIRE(o.status == 0);
    CHECK(o.err.find("pages written") != std::string::npos);
    REQUIRE(bytes.size() % kPageSize == 0);
    const std::size_t written = bytes.size() / kPageSize;
    CHECK(o.err.find(" " + std::to_string(written) + " pages written") != std::string::npos);
    CHECK(known_pages_in(pages_of(bytes), kKnownPages) == kKnownPages);
    // The rest is the forked test process's own resident memory: far less than the 64 MiB
    // reservation the child never touched.
    CHECK(written >= kKnownPages);
    CHECK(written < kKnownPages + kUntouchedPages / 4);

    SECTION("to stdout, and --max-mib stops at the limit") {
        Outcome piped = run(shell_quote(g_exe) + " " + std::to_string(child.pid()) + " -");
        REQUIRE(piped.status == 0);
        CHECK(piped.out.size() / kPageSize == written);
        Outcome limited =
            run(shell_quote(g_exe) + " --max-mib 1 " + std::to_string(child.pid()) + " -");
        REQUIRE(limited.status == 0);
        CHECK(limited.out.size() == (1u << 20));
        CHECK(limited.err.find("stopped at --max-mib") != std::string::npos);
    }
}

TEST_CASE("a process killed mid-capture gives a partial capture", "[capture]") {
    if (kChildHasShadowMappings) {
        std::cout << kShadowSkip << "\n";
        return;
    }
    FilledChild child(4096); // 8 reads of 512 pages at least
    const pid_t pid = child.pid();
    std::uint64_t seen = 0;
    PageWriter writer = [&](std::span<const std::byte>) -> Status {
        if (++seen == 10) {
            ::kill(pid, SIGKILL);
            // Wait until its memory is gone (a zombie): the next read must see it.
            siginfo_t info{};
            ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT);
        }
        return {};
    };
    auto stats = capture_pages(pid, CaptureOptions{}, writer);
    REQUIRE(stats);
    CHECK(stats->process_exited);
    CHECK(stats->pages_written >= 10);
    CHECK(stats->pages_written < 4096);
}

TEST_CASE("capture-pages fails clearly: no such process, a zombie, no permission", "[capture]") {
    SECTION("no such process") {
        pid_t gone = ::fork();
        REQUIRE(gone >= 0);
        if (gone == 0) ::_exit(0);
        ::waitpid(gone, nullptr, 0);
        Outcome o = run(shell_quote(g_exe) + " " + std::to_string(gone) + " -");
        CHECK(o.status == 2);
        CHECK(o.err.find("no process " + std::to_string(gone)) != std::string::npos);
        CHECK(o.out.empty());
    }
    SECTION("a zombie") {
        pid_t zombie = ::fork();
        REQUIRE(zombie >= 0);
        if (zombie == 0) ::_exit(0);
        siginfo_t info{};
        ::waitid(P_PID, static_cast<id_t>(zombie), &info, WEXITED | WNOWAIT);
        Outcome o = run(shell_quote(g_exe) + " " + std::to_string(zombie) + " -");
        ::waitpid(zombie, nullptr, 0);
        CHECK(o.status == 2);
        CHECK(o.err.find("has exited") != std::string::npos);
    }
    SECTION("no permission: an unprivileged user reading PID 1") {
        // As root, drop to nobody for the run; otherwise this user is already unprivileged.
        std::string prefix;
        if (::geteuid() == 0) {
            if (std::system("command -v setpriv >/dev/null 2>&1") != 0) {
                std::cout << "SKIP the permission check: setpriv is missing\n";
                return;
            }
            prefix = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
        }
        Outcome o = run(prefix + shell_quote(g_exe) + " 1 -");
        CHECK(o.status == 2);
        CHECK(o.err.find("needs root") != std::string::npos);
    }
}

int main(int argc, char** argv) {
    const char* exe = std::getenv("CAPTURE_PAGES_EXE");
    if (!exe) {
        std::cerr << "capture-pages test: CAPTURE_PAGES_EXE must be set (meson test sets it)\n";
        return 1;
    }
    g_exe = exe;
    return trueno::test::run_tests(argc, argv);
}
