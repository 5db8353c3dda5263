// The standby: a second trueno-zramd, started while memory is plentiful, that waits for the
// serving daemon to end and then takes its devices over at once.
//
// Why: when the serving daemon dies, every swap write waits in the kernel for a server, and so
// does any allocation that has to reclaim by writing swap. Starting a new daemon then needs a
// fork and an exec: at the kernel's default watermarks the fork itself was seen waiting in
// reclaim for the dead device, for good (README, "Known limits"). The standby has been forked,
// exec'd, locked in memory and made an I/O flusher long before; it takes over with none of that.
//
// Under systemd the unit has ExitType=cgroup, so the main process's death does not stop the
// service while its standby lives, and NotifyAccess=all, so the standby can say MAINPID=.
#pragma once

#include "trueno/result.hpp"
#include "trueno/unique_fd.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <sys/types.h>
#include <vector>

namespace trueno::service {

// The internal options that make a trueno-zramd a standby.
inline constexpr const char* kStandbyForOption = "--standby-for";
inline constexpr const char* kListenFdOption = "--listen-fd";

// The standby's command line: the daemon's own arguments (argv[1..], a standby's own internal
// options left out) followed by --standby-for SERVER --listen-fd FD. A pure function.
std::vector<std::string> standby_arguments(std::span<const std::string> daemon_args, pid_t server,
                                           int listen_fd);

// Memory the standby holds, locked, while it waits, and gives back the moment it takes over:
// with the server dead, reclaim cannot free anything (it would write swap to the dead device),
// and whatever the dead server freed is gone to others by then. In two parts:
// - half in this process's heap (keep_heap_in_place: freed, it stays there): the take-over's
//   largest allocation, the store's bookkeeping (2.2-2.4 MB measured, README), reuses those
//   pages, already resident and locked, and races nobody for them;
// - half mapped on its own and given back to the system for what the kernel allocates for the
//   take-over (page tables of the store's mapping, the descriptors' mapping, I/O buffers).
//   Freed pages go to whoever allocates first.
// The queue threads and their rings are not made at the take-over at all: the standby keeps
// them ready while it waits (ublk/spare_queue_threads.hpp). Before that, take-overs at 256 MB
// waited for good about once in five runs, with or without this split (README, Known limits).
class StandbyBallast {
public:
    explicit StandbyBallast(std::size_t bytes);
    ~StandbyBallast() { release(); }
    StandbyBallast(const StandbyBallast&) = delete;
    StandbyBallast& operator=(const StandbyBallast&) = delete;
    std::size_t size() const { return heap_size_ + mapped_size_; }
    std::size_t heap_size() const { return heap_size_; }
    void release();

private:
    std::unique_ptr<unsigned char[]> heap_;
    std::size_t heap_size_ = 0;
    void* mapped_ = nullptr;
    std::size_t mapped_size_ = 0;
};

// How the standby's wait ended.
enum class StandbyWait {
    server_gone,    // the serving daemon has ended: take over
    stop_requested, // a signal came on stop_fd: end quietly
};

// In the standby: blocks until the process `server` has ended (a zombie counts), or stop_fd (a
// signalfd) is readable. `server` is expected to be this process's parent: if it is not any
// more, it has ended already. Meanwhile, at the start and then every `period`, runs
// `meanwhile` (which must not throw): the standby prepares its take-over there. Errors (no
// pidfd_open) are returned, not thrown.
Result<StandbyWait> wait_for_server(pid_t server, int stop_fd,
                                    std::chrono::milliseconds period = {},
                                    const std::function<void()>& meanwhile = {});

// In the serving daemon: its standby, started again (with a back-off) should it end.
class StandbyKeeper {
public:
    // exe: the program to run (/proc/self/exe: this very version); daemon_args: argv[1..];
    // listen_fd: the control socket, handed down for the standby to serve once it takes over.
    StandbyKeeper(std::string exe, std::vector<std::string> daemon_args, int listen_fd);
    ~StandbyKeeper();
    StandbyKeeper(const StandbyKeeper&) = delete;
    StandbyKeeper& operator=(const StandbyKeeper&) = delete;

    // From the status timer: notices a standby that ended (and says how), and starts one when
    // none runs and the back-off has passed. Never throws.
    void maintain();
    // Before the daemon lets go of its devices: the standby must not take them over. SIGTERM,
    // then SIGKILL after `patience`; waits for it to be gone.
    void stop(std::chrono::milliseconds patience = std::chrono::milliseconds(3000));
    pid_t pid() const { return pid_; }

private:
    void start();
    void reap_if_ended();
    // Counts one more standby that ended or could not start and sets when the next may start:
    // 1 s, doubling, at most 60 s. Returns the wait.
    std::chrono::seconds back_off_after_failure();

    std::string exe_;
    std::vector<std::string> daemon_args_;
    int listen_fd_;
    pid_t pid_ = -1;
    UniqueFd pidfd_;
    unsigned failures_ = 0; // standbys in a row that ended or could not start
    std::chrono::steady_clock::time_point next_start_{};
    std::chrono::steady_clock::time_point started_at_{}; // of the standby running
};

} // namespace trueno::service
