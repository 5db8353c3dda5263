// trueno-zramd: serves compressed-RAM block devices (/dev/ublkbN) through the kernel's ublk
// driver, controlled over varlink. Runs in the foreground under systemd (Type=notify).
//
// Devices outlive the daemon: their stores live in locked shared memory and the kernel holds
// their I/O while no daemon runs. At start it takes over every device an earlier daemon left
// (crashed, killed or stopped); on SIGTERM/SIGINT it lets go of every device, which waits for
// the next trueno-zramd. Devices are removed only on request (RemoveDevice, zramctl --reset).
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "control_wiring.hpp"
#include "daemon_logging.hpp"
#include "metrics_publisher.hpp"
#include "trueno/zswap.hpp"
#include "process_hardening.hpp"
#include "process_memory.hpp"
#include "standby.hpp"
#include "supervisor_swap.hpp"
#include "trueno/metrics/textfile_writer.hpp"
#include "trueno/service_manager/activation.hpp"
#include "trueno/service_manager/notify.hpp"
#include "trueno/unique_fd.hpp"
#include "trueno/varlink/server.hpp"
#include "trueno/varlink/socket.hpp"
#include "ublk/control_device.hpp"
#include "ublk/request_handler.hpp"
#include "ublk/ublk_device.hpp"
#include "ublk_device_manager.hpp"

namespace {

using trueno::UniqueFd;
using namespace std::chrono_literals;

struct Options {
    std::string socket_path = "/run/trueno-zram/io.trueno.zram";
    unsigned queues = 0;
    unsigned depth = 128;
    std::string log_level = "info";
    std::string copy_mode = "auto";
    bool realtime = true;
    unsigned reserve_budget_mb = 0;
    unsigned reserve_wait_ms = trueno::ublk::kDefaultReserveWait.count();
    std::string metrics_file;     // empty: no metrics file
    unsigned metrics_interval = 15; // seconds
    bool standby = true;            // keep a standby process ready to take over (standby.hpp)
    unsigned standby_reserve_mb = 8; // what a standby holds for its take-over (2.8-3.1 MB measured, README)
    pid_t standby_for = 0;          // internal: this process is the standby of that daemon
    int listen_fd = -1;             // internal: the control socket, handed down to a standby
    std::vector<std::string> args;  // argv[1..], for the standby's command line
};

trueno::Error system_error(int code, const std::string& what) {
    return trueno::make_error(code, what + ": " + std::strerror(code));
}

trueno::Result<UniqueFd> make_timer(std::chrono::milliseconds period) {
    UniqueFd fd(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    if (!fd)
        return system_error(errno, "timerfd_create");
    itimerspec spec{};
    spec.it_interval.tv_sec = period.count() / 1000;
    spec.it_interval.tv_nsec = (period.count() % 1000) * 1000000;
    spec.it_value = spec.it_interval;
    if (timerfd_settime(fd.get(), 0, &spec, nullptr) != 0)
        return system_error(errno, "timerfd_settime");
    return fd;
}

// SIGTERM and SIGINT, taken through a signalfd: blocked before any thread exists, so that
// every thread inherits the mask and none of them is killed by one.
trueno::Result<UniqueFd> take_stop_signals() {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    if (const int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr); err != 0)
        return system_error(err, "pthread_sigmask");
    UniqueFd fd(signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!fd)
        return system_error(errno, "signalfd");
    return fd;
}

// Every control connection takes an fd, and the control socket lets users other than root
// hold half of them: raise the soft limit to the hard one (systemd's default soft limit is
// 1024, its hard one 524288).
void raise_fd_limit() {
    rlimit nofile{};
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0) {
        spdlog::warn("getrlimit(RLIMIT_NOFILE): {}", std::strerror(errno));
        return;
    }
    if (nofile.rlim_cur >= nofile.rlim_max)
        return;
    const auto soft = nofile.rlim_cur;
    nofile.rlim_cur = nofile.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
        spdlog::warn("cannot raise RLIMIT_NOFILE from {}: {}", soft, std::strerror(errno));
}

// The control socket: handed down by the daemon this process stands by for, passed by systemd
// (socket activation), or made here.
trueno::Result<UniqueFd> control_socket(const Options& options)
{
    if (options.listen_fd < 0) {
        auto fd = trueno::varlink::systemd_listen_fd();
        if (fd && !fd->valid())
            return trueno::varlink::listen_unix(options.socket_path);
        return fd;
    }
    UniqueFd fd(options.listen_fd);
    if (auto listening = trueno::service_manager::is_listening_unix_stream(fd.get()); !listening || !*listening)
        return trueno::make_error(EINVAL, "--listen-fd " + std::to_string(options.listen_fd) +
                                              " is not a listening AF_UNIX stream socket");
    // Handed down on purpose once; the next standby gets it the same way, nothing else does.
    if (fcntl(fd.get(), F_SETFD, FD_CLOEXEC) != 0)
        return system_error(errno, "fcntl(FD_CLOEXEC) on --listen-fd");
    return fd;
}

// systemd's watchdog and notify variables name the process it started; a standby inherited
// them from that process and takes over its part.
void adopt_systemd_environment(pid_t server)
{
    if (const char* pid = std::getenv("WATCHDOG_PID"); pid && std::atoi(pid) == server)
        setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
}

void notify_status(const trueno::service::UblkDeviceManager& manager, bool watchdog)
{
    const auto [orig, used] = manager.totals();
    const double ratio = used ? static_cast<double>(orig) / static_cast<double>(used) : 0.0;
    const std::string status = "STATUS=" + std::to_string(manager.device_count()) + " device(s), " +
                               std::to_string(orig >> 20) + " MiB stored in " + std::to_string(used >> 20) +
                               " MiB, ratio " + std::to_string(ratio).substr(0, 4) +
                               (watchdog ? "\nWATCHDOG=1" : "");
    (void)trueno::service_manager::notify(status); // a failure shows at READY=1, said once there
}

// kernel.shm_rmid_forced=1 destroys a process's System V segments when it exits: the stores
// would die with the daemon. Turned off (with a warning) rather than losing swap.
void keep_segments_after_exit()
{
    const char* path = "/proc/sys/kernel/shm_rmid_forced";
    std::ifstream in(path);
    int forced = 0;
    if (!(in >> forced) || forced == 0)
        return;
    std::ofstream out(path);
    if (out << "0\n" && out.flush())
        spdlog::warn("kernel.shm_rmid_forced was 1, which would destroy the devices' memory when trueno-zramd "
                     "exits: set it to 0 (see trueno-zramd(8))");
    else
        spdlog::critical("kernel.shm_rmid_forced is 1 and cannot be changed: devices will NOT survive a "
                         "restart of trueno-zramd");
}

int serve(const Options& options)
{
    auto signal_fd = take_stop_signals();
    if (!signal_fd) {
        spdlog::critical("cannot take SIGTERM and SIGINT: {}", signal_fd.error().message);
        return 1;
    }
    // A client or the journal gone away must not kill the daemon by SIGPIPE.
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) {
        spdlog::critical("cannot ignore SIGPIPE: {}", std::strerror(errno));
        return 1;
    }
    raise_fd_limit();
    if (options.standby_for > 0)
        adopt_systemd_environment(options.standby_for);
    // The status timer too is made before any device is taken over: should it fail, the devices
    // are left waiting as they were.
    const auto watchdog_interval = trueno::service_manager::watchdog_interval();
    const bool watchdog = watchdog_interval.has_value();
    auto period = std::chrono::milliseconds(2000);
    if (watchdog) // pings at half the interval, no more often than every 100 ms
        period = std::min(period, std::max(std::chrono::duration_cast<std::chrono::milliseconds>(*watchdog_interval / 2),
                                           std::chrono::milliseconds(100)));
    // Status lines for systemd, and the watchdog ping.
    auto timer = make_timer(period);
    if (!timer) {
        spdlog::critical("status timer: {}", timer.error().message);
        return 1;
    }

    keep_segments_after_exit();
    if (trueno::service_manager::booted_with_systemd())
        for (const auto& note : trueno::service::keep_supervisors_out_of_swap())
            spdlog::warn("{}", note);

    auto control = trueno::ublk::ControlDevice::open();
    if (!control) {
        spdlog::critical("{}", control.error().message);
        return 1;
    }

    trueno::ublk::DeviceOptions device_options;
    device_options.queues = options.queues;
    device_options.depth = options.depth;
    device_options.copy_mode = trueno::ublk::parse_copy_mode(options.copy_mode).value();
    device_options.realtime = options.realtime;
    device_options.reserve_wait = std::chrono::milliseconds(options.reserve_wait_ms);
    device_options.reserve_budget_bytes = std::uint64_t{options.reserve_budget_mb} << 20;
    trueno::service::UblkDeviceManager manager(**control, device_options);
    unsigned long takeover_rss_kb = 0; // a standby's RssAnon when it began to take over
    // A standby has its control socket before it waits: a bad one ends it now, while the
    // daemon it stands by for can still say so and start another.
    auto listen_fd = control_socket(options);
    if (!listen_fd) {
        spdlog::critical("control socket: {}", listen_fd.error().message);
        return 1;
    }
    if (options.standby_for > 0) {
        trueno::service::StandbyBallast ballast(std::size_t{options.standby_reserve_mb} << 20);
        // A spare thread, its ring made, for every queue it would take over (ublk/
        // spare_queue_threads.hpp says why), kept up with the devices the server adds meanwhile.
        std::size_t spares = manager.prepare_takeover(options.standby_for);
        if (!manager.takeover_prepared(std::chrono::seconds(10)))
            spdlog::warn(
                "standby pid {}: its spare queue threads are not ready after 10 s (memory is "
                "short?); a take-over starts its own meanwhile",
                getpid());
        spdlog::info(
            "standby ready, pid {}: takes over from pid {} when it ends ({} queue thread(s) ready)",
            getpid(), options.standby_for, spares);
        auto prepare = [&] {
            const std::size_t now = manager.prepare_takeover(options.standby_for);
            if (now != spares)
                spdlog::info("standby pid {}: {} queue thread(s) ready for the take-over", getpid(),
                             now);
            spares = now;
        };
        auto waited = trueno::service::wait_for_server(options.standby_for, signal_fd->get(),
                                                       std::chrono::milliseconds(2000), prepare);
        // It waited at normal priority (enter_startup_priority says why); realtime from here.
        if (options.realtime)
            (void)trueno::service::enter_startup_priority();
        ballast.release(); // first of all: the take-over's memory
        if (!waited) {
            spdlog::critical("standby: {}", waited.error().message);
            return 1;
        }
        if (*waited == trueno::service::StandbyWait::stop_requested) {
            spdlog::debug("standby pid {} stopped", getpid());
            std::fflush(nullptr);
            _exit(0);
        }
        spdlog::warn("trueno-zramd pid {} is gone: standby pid {} takes over its devices", options.standby_for,
                     getpid());
        takeover_rss_kb = trueno::service::anonymous_rss_kb();
    }
    // First of all: devices an earlier daemon left have I/O waiting in the kernel.
    const auto recovery = manager.recover();
    if (recovery.recovered + recovery.waiting + recovery.deleted + recovery.stale_stores != 0)
        spdlog::info(
            "recovery: {} device(s) served again, {} left waiting, {} deleted, {} stale store(s) "
            "removed, in {} ms; {} queue(s) on threads and rings made ahead, {} spare(s) unused",
            recovery.recovered, recovery.waiting, recovery.deleted, recovery.stale_stores,
            recovery.took.count(), recovery.spare_queues, recovery.spares_unused);
    if (options.standby_for > 0)
        spdlog::info("standby pid {}: the take-over allocated {} kB (--standby-reserve {} MiB)", getpid(),
                     trueno::service::anonymous_rss_growth_kb(takeover_rss_kb),
                     options.standby_reserve_mb);
    trueno::service::leave_startup_priority(); // the control loop needs no realtime priority

    const int listen_raw = listen_fd->get();
    // Destroyed in reverse: the server's loop stops before the handlers and the manager go.
    std::unique_ptr<trueno::service::ZramControl> zram_control;
    trueno::varlink::Server server({"trueno", "trueno-zramd", TRUENO_VERSION, "https://github.com/trueno-zram"});
    zram_control = trueno::service::register_control(server, manager, **control, device_options.copy_mode);
    if (auto st = server.start(std::move(listen_fd.value())); !st) {
        spdlog::critical("control socket: {}", st.error().message);
        return 1;
    }

    spdlog::info("trueno-zramd {} ready", TRUENO_VERSION);
    if (trueno::zswap_enabled().value_or(false))
        spdlog::warn("{}", trueno::kZswapWarning);
    // A standby that took over is the service's main process from now on (NotifyAccess=all).
    const std::string ready = options.standby_for > 0 ? "READY=1\nMAINPID=" + std::to_string(getpid()) : "READY=1";
    if (auto sent = trueno::service_manager::notify(ready); !sent)
        spdlog::error("cannot tell systemd the daemon is ready: {}", sent.error().message);
    notify_status(manager, watchdog);

    // Off by default. A bad path is an error in the log, not a reason to leave devices unserved:
    // the writer tries again every interval and says when it works.
    std::unique_ptr<trueno::service::MetricsPublisher> metrics;
    if (!options.metrics_file.empty()) {
        if (auto st = trueno::metrics::check_textfile_directory(options.metrics_file); !st)
            spdlog::error("--metrics-file: {}", st.error().message);
        metrics = std::make_unique<trueno::service::MetricsPublisher>(
            manager, options.metrics_file, std::chrono::seconds(options.metrics_interval));
        spdlog::info("metrics: {} every {} s", options.metrics_file, options.metrics_interval);
    }

    // Started once the devices are served and the socket is up: it needs a fork and an exec,
    // which are safe while this daemon serves the swap they might reclaim into.
    std::unique_ptr<trueno::service::StandbyKeeper> standby;
    if (options.standby) {
        standby = std::make_unique<trueno::service::StandbyKeeper>("/proc/self/exe", options.args, listen_raw);
        standby->maintain();
    }

    // Room on demand (trueno/writeback_policy.hpp) looks at its devices every 100 ms while
    // armed: a swap-out burst fills the last tenth of a mem_limit in seconds.
    bool room_armed = manager.make_room();
    for (;;) {
        pollfd fds[2] = {{signal_fd->get(), POLLIN, 0}, {timer->get(), POLLIN, 0}};
        if (poll(fds, 2, room_armed ? 100 : -1) < 0 && errno != EINTR) {
            spdlog::critical("poll: {}", std::strerror(errno));
            break;
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info{};
            while (read(signal_fd->get(), &info, sizeof(info)) == sizeof(info))
                spdlog::info("signal {}: stopping", info.ssi_signo);
            break;
        }
        if (fds[1].revents & POLLIN) {
            std::uint64_t expirations = 0;
            (void)!read(timer->get(), &expirations, sizeof(expirations));
            notify_status(manager, watchdog);
            manager.maintain();
            if (standby)
                standby->maintain();
        }
        room_armed = manager.make_room();
    }
    (void)trueno::service_manager::notify("STOPPING=1"); // systemd sees the exit all the same
    if (standby)
        standby->stop(); // before the devices are let go: they wait for the next daemon, not for it
    server.stop(); // no calls from here on
    if (metrics)
        metrics->stop(); // while the devices still serve: its file write may need their swap
    // Every device stays, with its memory: the next trueno-zramd takes it over.
    manager.release_all();
    spdlog::info("trueno-zramd stopped");
    // Out without running destructors: joining a refill thread in reclaim, or a recompression
    // pass, could wait for swap that only the next daemon can serve. Nothing is lost: every
    // store is crash-consistent at any instruction, and its queues have let go already.
    std::fflush(nullptr);
    _exit(0);
}

} // namespace

int main(int argc, char** argv)
{
    Options options;
    CLI::App app{"trueno-zramd: compressed-RAM block devices (/dev/ublkbN) served through ublk"};
    app.set_version_flag("--version", std::string("trueno-zramd ") + TRUENO_VERSION);
    app.add_option("--socket", options.socket_path, "varlink socket to create when not socket-activated")
        ->capture_default_str();
    app.add_option("--queues", options.queues, "hardware queues per device (0: one per CPU, at most 4)")
        ->check(CLI::Range(0u, 64u))
        ->capture_default_str();
    app.add_option("--queue-depth", options.depth, "requests in flight per queue")
        ->check(CLI::Range(1u, 4096u))
        ->capture_default_str();
    app.add_option("--log-level", options.log_level, "trace, debug, info, warn, error, critical, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
        ->capture_default_str();
    app.add_option("--copy-mode", options.copy_mode,
                   "auto (user copy when the kernel offers it), user, or buffer")
        ->check(CLI::IsMember({"auto", "user", "buffer"}))
        ->capture_default_str();
    // Before anything else: no page of this process may be swapped out, least of all while it
    // starts to take over devices whose I/O waits for it.
    // A standby (argv names the daemon it stands by for) waits at normal priority.
    bool standby_process = false;
    for (int i = 1; i < argc; ++i)
        standby_process = standby_process || std::string(argv[i]).rfind(trueno::service::kStandbyForOption, 0) == 0;
    const auto hardening_warnings = trueno::service::harden_for_swap(!standby_process);
    app.add_option("--realtime", options.realtime,
                   "run the threads swap waits on (I/O queues, store refill) at realtime priority "
                   "SCHED_FIFO 1: under memory pressure they may take memory below the min "
                   "watermark, but what they took stays with the store if the daemon dies "
                   "(trueno-zramd(8), MEMORY PRESSURE)")
        ->capture_default_str();
    app.add_option("--reserve-wait", options.reserve_wait_ms,
                   "milliseconds a swap write that finds the store's populated reserve empty waits "
                   "for the refill thread, set aside while its queue serves other requests, before "
                   "it fails (the kernel keeps the page and writes it again); trueno-zramd(8), "
                   "MEMORY PRESSURE")
        ->check(CLI::Range(0u, 10000u))
        ->capture_default_str();
    app.add_option("--reserve-budget", options.reserve_budget_mb,
                   "MiB of memory each device's store may keep populated ahead of its writes "
                   "(0: 1/16 of RAM, 4 to 16 MiB); trueno-zramd(8), MEMORY PRESSURE")
        ->check(CLI::Range(0u, 1024u))
        ->capture_default_str();
    app.add_option("--metrics-file", options.metrics_file,
                   "write every device's metrics to this file (Prometheus text) for node_exporter's "
                   "textfile collector, e.g. /var/lib/prometheus/node-exporter/trueno-zram.prom; "
                   "replaced atomically; off by default");
    app.add_option("--metrics-interval", options.metrics_interval, "seconds between writes of --metrics-file")
        ->check(CLI::Range(1u, 86400u))
        ->capture_default_str();
    app.add_option("--standby", options.standby,
                   "keep a standby trueno-zramd ready (started, locked in memory) that takes the "
                   "devices over at once should this one die; trueno-zramd(8), RECOVERY")
        ->capture_default_str();
    app.add_option("--standby-reserve", options.standby_reserve_mb,
                   "MiB of memory the standby holds, locked, and frees the moment it takes over: "
                   "with the server dead nothing else can be reclaimed, and the take-over must "
                   "not wait for memory")
        ->check(CLI::Range(0u, 1024u))
        ->capture_default_str();
    app.add_option(trueno::service::kStandbyForOption, options.standby_for,
                   "internal: be the standby of the trueno-zramd with this pid")
        ->check(CLI::PositiveNumber)
        ->group("");
    app.add_option(trueno::service::kListenFdOption, options.listen_fd,
                   "internal: the control socket, handed down by the daemon this one stands by for")
        ->check(CLI::Range(3, 1 << 20))
        ->group("");
    CLI11_PARSE(app, argc, argv);
    options.args.assign(argv + 1, argv + argc);
    if (options.standby_for > 0 && options.listen_fd < 0) {
        std::fprintf(stderr, "%s needs %s\n", trueno::service::kStandbyForOption, trueno::service::kListenFdOption);
        return 2;
    }

    if (!options.realtime)
        trueno::service::leave_startup_priority();
    trueno::service::setup_logging(options.log_level);
    for (const auto& warning : hardening_warnings)
        spdlog::warn("{}", warning);
    try {
        return serve(options);
    } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
    }
}
