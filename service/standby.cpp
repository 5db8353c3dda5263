#include "standby.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace trueno::service {
namespace {

using namespace std::chrono_literals;

constexpr auto kLongestBackOff = 60s;

// Debian 12's <sys/pidfd.h> declares it without C linkage for C++.
int pidfd_open(pid_t pid, unsigned flags) {
    return static_cast<int>(syscall(SYS_pidfd_open, pid, flags));
}

std::string describe_status(int status) {
    if (WIFEXITED(status))
        return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("signal ") + sigabbrev_np(WTERMSIG(status));
    return "status " + std::to_string(status);
}

bool takes_value(const std::string& arg, const char* option) {
    return arg == option;
}

bool has_inline_value(const std::string& arg, const char* option) {
    const std::string prefix = std::string(option) + "=";
    return arg.rfind(prefix, 0) == 0;
}

} // namespace

std::vector<std::string> standby_arguments(std::span<const std::string> daemon_args, pid_t server,
                                           int listen_fd) {
    std::vector<std::string> args;
    for (std::size_t i = 0; i < daemon_args.size(); ++i) {
        const std::string& arg = daemon_args[i];
        if (takes_value(arg, kStandbyForOption) || takes_value(arg, kListenFdOption)) {
            ++i; // and its value
            continue;
        }
        if (has_inline_value(arg, kStandbyForOption) || has_inline_value(arg, kListenFdOption))
            continue;
        args.push_back(arg);
    }
    args.push_back(kStandbyForOption);
    args.push_back(std::to_string(server));
    args.push_back(kListenFdOption);
    args.push_back(std::to_string(listen_fd));
    return args;
}

Result<StandbyWait> wait_for_server(pid_t server, int stop_fd, std::chrono::milliseconds period,
                                    const std::function<void()>& meanwhile) {
    UniqueFd pidfd(pidfd_open(server, 0));
    if (!pidfd) {
        if (errno == ESRCH)
            return StandbyWait::server_gone;
        return make_error(errno, std::string("pidfd_open: ") + std::strerror(errno));
    }
    // The pidfd may name a process that took the pid of a server already gone (and reaped):
    // the server is this process's parent for as long as it lives.
    if (getppid() != server)
        return StandbyWait::server_gone;
    const bool periodic = meanwhile && period.count() > 0;
    if (meanwhile)
        meanwhile();
    for (;;) {
        pollfd fds[2] = {{pidfd.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
        const int ready =
            poll(fds, stop_fd >= 0 ? 2 : 1, periodic ? static_cast<int>(period.count()) : -1);
        if (ready < 0) {
            if (errno == EINTR)
                continue;
            return make_error(errno, std::string("poll: ") + std::strerror(errno));
        }
        if (ready == 0) {
            meanwhile();
            continue;
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
            return StandbyWait::server_gone;
        if (fds[1].revents & POLLIN)
            return StandbyWait::stop_requested;
    }
}

namespace {

// One write a page, with a value no same-page merging could fold: resident, and locked
// (mlockall's MCL_ONFAULT locks what is touched).
void touch_pages(unsigned char* p, std::size_t bytes) {
    for (std::size_t off = 0; off < bytes; off += 4096)
        static_cast<volatile unsigned char*>(p)[off] = static_cast<unsigned char>(off >> 12 | 1);
}

} // namespace

StandbyBallast::StandbyBallast(std::size_t bytes) {
    if (bytes == 0)
        return;
    const std::size_t heap_bytes = bytes / 2 & ~std::size_t{4095};
    heap_.reset(new (std::nothrow) unsigned char[heap_bytes]);
    if (heap_) {
        touch_pages(heap_.get(), heap_bytes);
        heap_size_ = heap_bytes;
    } else {
        spdlog::warn("standby: cannot hold {} kB in the heap for the take-over", heap_bytes >> 10);
    }
    const std::size_t map_bytes = bytes - heap_bytes;
    void* p = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) {
        spdlog::warn("standby: cannot hold {} kB for the take-over's kernel memory: {}",
                     map_bytes >> 10, std::strerror(errno));
        return;
    }
    touch_pages(static_cast<unsigned char*>(p), map_bytes);
    (void)mlock(p, map_bytes);
    mapped_ = p;
    mapped_size_ = map_bytes;
}

void StandbyBallast::release() {
    heap_.reset(); // into the heap's free memory, where the take-over's allocations find it
    heap_size_ = 0;
    if (mapped_ != nullptr)
        (void)munmap(mapped_, mapped_size_);
    mapped_ = nullptr;
    mapped_size_ = 0;
}

StandbyKeeper::StandbyKeeper(std::string exe, std::vector<std::string> daemon_args, int listen_fd)
    : exe_(std::move(exe)), daemon_args_(std::move(daemon_args)), listen_fd_(listen_fd) {}

StandbyKeeper::~StandbyKeeper() {
    stop();
}

void StandbyKeeper::maintain() {
    try {
        reap_if_ended();
        if (pid_ < 0 && std::chrono::steady_clock::now() >= next_start_)
            start();
    } catch (const std::exception& e) {
        spdlog::error("standby: {}", e.what());
    }
}

void StandbyKeeper::reap_if_ended() {
    if (pid_ < 0)
        return;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == 0)
        return;
    // One that served as standby for longer than the longest back-off was no failure in a row.
    if (std::chrono::steady_clock::now() - started_at_ >= kLongestBackOff)
        failures_ = 0;
    const auto back_off = back_off_after_failure();
    if (r == pid_)
        spdlog::warn("the standby (pid {}) ended ({}): another in {} s", pid_,
                     describe_status(status), back_off.count());
    else
        spdlog::warn("the standby (pid {}) is gone ({}): another in {} s", pid_,
                     std::strerror(errno), back_off.count());
    pid_ = -1;
    pidfd_.reset();
}

std::chrono::seconds StandbyKeeper::back_off_after_failure() {
    const auto back_off = std::min<std::chrono::seconds>(
        std::chrono::seconds(1u << std::min(failures_, 6u)), kLongestBackOff);
    ++failures_;
    next_start_ = std::chrono::steady_clock::now() + back_off;
    return back_off;
}

void StandbyKeeper::start() {
    const auto args = standby_arguments(daemon_args_, getpid(), listen_fd_);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>("trueno-zramd"));
    for (const auto& arg : args)
        argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    // dup2 onto itself clears FD_CLOEXEC (glibc 2.29): the only fd handed down on purpose.
    if (listen_fd_ >= 0)
        posix_spawn_file_actions_adddup2(&actions, listen_fd_, listen_fd_);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    const int err = posix_spawn(&pid, exe_.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    if (err != 0) {
        const auto back_off = back_off_after_failure();
        spdlog::error("cannot start a standby ({}: {}): trying again in {} s", exe_,
                      std::strerror(err), back_off.count());
        return;
    }
    pid_ = pid;
    started_at_ = std::chrono::steady_clock::now();
    pidfd_.reset(pidfd_open(pid, 0)); // for stop()'s wait; without it stop() polls waitpid
    spdlog::info("standby started, pid {}", pid);
}

void StandbyKeeper::stop(std::chrono::milliseconds patience) {
    if (pid_ < 0)
        return;
    (void)kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + patience;
    int status = 0;
    for (;;) {
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR))
            break;
        if (std::chrono::steady_clock::now() >= deadline) {
            spdlog::warn("the standby (pid {}) did not end on SIGTERM: SIGKILL", pid_);
            (void)kill(pid_, SIGKILL);
            (void)waitpid(pid_, &status, 0);
            break;
        }
        if (pidfd_) {
            pollfd fd{pidfd_.get(), POLLIN, 0};
            (void)poll(&fd, 1, 50);
        } else {
            usleep(20000);
        }
    }
    pid_ = -1;
    pidfd_.reset();
}

} // namespace trueno::service
