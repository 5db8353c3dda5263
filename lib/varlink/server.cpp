// The varlink service's event loop: accepting, reading calls, dispatching, buffered replies.
#include "trueno/varlink/server.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <stdexcept>
#include <utility>

namespace trueno::varlink {

namespace {

constexpr const char* service_interface = "org.varlink.service";

// The org.varlink.service interface as the specification defines it, served like any other.
constexpr const char* service_description = R"VARLINK(# The varlink service interface: every varlink service answers it.
interface org.varlink.service

# The service's identity and every interface it implements.
method GetInfo() -> (
  vendor: string,
  product: string,
  version: string,
  url: string,
  interfaces: []string
)

# The description of one interface this service implements.
method GetInterfaceDescription(interface: string) -> (description: string)

# No such interface here.
error InterfaceNotFound (interface: string)

# No such method in the interface.
error MethodNotFound (method: string)

# The interface declares the method but this service does not implement it.
error MethodNotImplemented (method: string)

# A parameter is missing, of the wrong type, or not acceptable.
error InvalidParameter (parameter: string)

# The caller may not call this method.
error PermissionDenied ()

# The method needs the "more" flag.
error ExpectedMore ()
)VARLINK";

// Serialising never throws on text that is not UTF-8 (a handler might echo such a value).
std::string serialise(const Reply& reply) {
    return to_json(reply).dump(-1, ' ', false, Json::error_handler_t::replace);
}

constexpr std::size_t read_chunk = 64 * 1024;
constexpr int reads_per_wakeup = 16; // fairness: one busy client does not starve the rest
constexpr auto refusal_log_interval = std::chrono::seconds(10);

// How often to look for idle connections: a quarter of the timeout, at most once a second.
std::chrono::milliseconds idle_check_interval(std::chrono::milliseconds idle_timeout) {
    if (idle_timeout <= std::chrono::milliseconds::zero())
        return std::chrono::seconds(1);
    return std::clamp(idle_timeout / 4, std::chrono::milliseconds(1),
                      std::chrono::milliseconds(1000));
}

// Users other than root may hold at most half the fds this process may open: the rest stays
// for root's connections (never refused for number) and for everything else the process does.
void keep_fds_for_root(ServerLimits& limits) {
    rlimit nofile{};
    if (::getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur == RLIM_INFINITY)
        return;
    const auto most = static_cast<std::size_t>(nofile.rlim_cur / 2);
    if (limits.max_clients <= most)
        return;
    spdlog::warn(
        "varlink: at most {} connections of users other than root (not {}): RLIMIT_NOFILE is {}",
        most, limits.max_clients, nofile.rlim_cur);
    limits.max_clients = most;
}

} // namespace

struct DeferredReply::State {
    std::function<void(Reply)> deliver;
    std::function<void()> abandoned;
    std::atomic<bool> sent{false};

    ~State() {
        if (!sent.load() && abandoned) abandoned();
    }
};

DeferredReply::DeferredReply(std::function<void(Reply)> deliver, std::function<void()> abandoned)
    : state_(std::make_shared<State>()) {
    state_->deliver = std::move(deliver);
    state_->abandoned = std::move(abandoned);
}

void DeferredReply::send(Reply reply) const {
    if (!state_ || state_->sent.exchange(true)) return;
    if (state_->deliver) state_->deliver(std::move(reply));
}

struct Server::Completions {
    struct Done {
        int fd = -1;
        std::uint64_t connection = 0;
        std::optional<Reply> reply; // none: the call was dropped unanswered
    };

    explicit Completions(UniqueFd wake_fd) : wake(std::move(wake_fd)) {}

    // Any thread. Never throws: it runs in DeferredReply's destructor too.
    void post(int fd, std::uint64_t connection, std::optional<Reply> reply) noexcept {
        try {
            std::lock_guard lock(mutex);
            if (!open) return; // the server stopped: nobody to answer
            done.push_back(Done{fd, connection, std::move(reply)});
        } catch (...) {
            // No memory for the queue entry: the client waits until it gives up.
            spdlog::error("varlink: a deferred reply was lost (out of memory)");
            return;
        }
        const std::uint64_t one = 1;
        // Fails only if the counter would overflow: it is readable then anyway.
        [[maybe_unused]] auto n = ::write(wake.get(), &one, sizeof(one));
    }

    std::vector<Done> take() {
        std::uint64_t count = 0;
        [[maybe_unused]] auto n = ::read(wake.get(), &count, sizeof(count));
        std::lock_guard lock(mutex);
        return std::exchange(done, {});
    }

    void close() {
        std::lock_guard lock(mutex);
        open = false;
        done.clear();
    }

    // Lives as long as any DeferredReply does, so a late post never writes to a closed fd.
    const UniqueFd wake;
    std::mutex mutex;
    std::vector<Done> done;
    bool open = true;
};

Server::Server(ServiceInfo info, ServerLimits limits, CredentialSource credentials)
    : info_(std::move(info)), limits_(limits), credentials_(std::move(credentials)) {
    interfaces_[service_interface] = Interface{service_description, {}};
}

Server::~Server() { stop(); }

void Server::add_interface(std::string name, std::string description, MethodTable methods) {
    if (thread_.joinable()) throw std::logic_error("varlink: add_interface after start");
    if (interfaces_.contains(name)) throw std::logic_error("varlink: interface " + name + " registered twice");
    interfaces_[std::move(name)] = Interface{std::move(description), std::move(methods)};
}

Status Server::start(UniqueFd listen_fd) {
    if (thread_.joinable()) return make_error(EALREADY, "varlink server already running");
    if (!listen_fd) return make_error(EBADF, "varlink server needs a listening socket");
    UniqueFd epoll_fd(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_fd) return make_error(errno, "epoll_create1: " + errno_text(errno));
    UniqueFd stop_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!stop_fd) return make_error(errno, "eventfd: " + errno_text(errno));
    UniqueFd wake_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_fd) return make_error(errno, "eventfd: " + errno_text(errno));
    auto completions = std::make_shared<Completions>(std::move(wake_fd));
    for (int fd : {listen_fd.get(), stop_fd.get(), completions->wake.get()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        if (::epoll_ctl(epoll_fd.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
            return make_error(errno, "epoll_ctl: " + errno_text(errno));
    }
    keep_fds_for_root(limits_);
    listen_fd_ = std::move(listen_fd);
    epoll_fd_ = std::move(epoll_fd);
    stop_fd_ = std::move(stop_fd);
    completions_ = std::move(completions);
    next_idle_check_ = Clock::now() + idle_check_interval(limits_.idle_timeout);
    thread_ = std::thread([this] { run(); });
    return {};
}

void Server::stop() {
    if (!thread_.joinable()) return;
    const std::uint64_t one = 1;
    // An eventfd write can only fail if the counter would overflow: it is then readable anyway.
    [[maybe_unused]] auto n = ::write(stop_fd_.get(), &one, sizeof(one));
    thread_.join();
    completions_->close(); // replies sent from now on are dropped
    completions_.reset();
    connections_.clear();
    connections_per_uid_.clear();
    client_count_ = 0;
    accept_paused_ = false;
    listen_fd_.reset();
    epoll_fd_.reset();
    stop_fd_.reset();
}

void Server::run() noexcept {
    // Failures of one connection are dealt with in serve(); this is for the rest (a
    // std::bad_alloc in the loop's own bookkeeping): std::terminate would end the daemon.
    for (;;) {
        try {
            serve();
            return;
        } catch (const std::exception& e) {
            spdlog::error("varlink: the service loop failed: {}; serving on", e.what());
        } catch (...) {
            spdlog::error("varlink: the service loop failed; serving on");
        }
        // Memory may be short: give it a moment rather than fail again at once.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

void Server::serve() {
    std::array<epoll_event, 64> events{};
    for (;;) {
        const int n = ::epoll_wait(epoll_fd_.get(), events.data(), static_cast<int>(events.size()),
                                   wait_timeout_ms());
        if (n < 0 && errno != EINTR) {
            spdlog::error("varlink: epoll_wait: {}", errno_text(errno));
            return;
        }
        const auto now = Clock::now();
        // While accepting is paused for lack of fds, retry it once a second.
        if (accept_paused_ && now - paused_at_ >= std::chrono::seconds(1))
            set_accepting(true);
        for (int i = 0; i < n; ++i) {
            const int fd = events[i].data.fd;
            if (fd == stop_fd_.get()) return;
            if (fd == listen_fd_.get()) {
                accept_clients();
                continue;
            }
            if (fd == completions_->wake.get()) {
                take_completions();
                continue;
            }
            // A failure while serving one client (std::bad_alloc under memory pressure, a
            // handler throwing what is not a std::exception) costs that client its connection.
            try {
                on_event(fd, events[i].events);
            } catch (const std::exception& e) {
                drop_after_failure(fd, e.what());
            } catch (...) {
                drop_after_failure(fd, "an exception that is not a std::exception");
            }
        }
        // After the batch: a call that arrived while this thread was kept from running (a busy
        // machine) has been read, so its connection is not taken for idle.
        if (const auto after = Clock::now(); after >= next_idle_check_) {
            close_idle(after);
            next_idle_check_ = after + idle_check_interval(limits_.idle_timeout);
        }
    }
}

int Server::wait_timeout_ms() const {
    auto wait = std::chrono::milliseconds::max();
    if (accept_paused_)
        wait = std::chrono::seconds(1);
    if (!connections_.empty() || refusals_not_logged_ != 0)
        wait = std::min(wait, idle_check_interval(limits_.idle_timeout));
    return wait == std::chrono::milliseconds::max() ? -1 : static_cast<int>(wait.count());
}

void Server::on_event(int fd, std::uint32_t events) {
    // An earlier event in this batch may have closed it.
    auto it = connections_.find(fd);
    if (it == connections_.end())
        return;
    if (it->second.waiting) {
        // Nothing is read until the deferred call is answered; a client gone meanwhile (its
        // socket fully closed reports EPOLLHUP even with no events asked for) is closed now.
        if (events & (EPOLLHUP | EPOLLERR)) {
            close_connection(fd);
            return;
        }
        if (events & EPOLLOUT)
            on_writable(it->second);
        return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(it->second);
    it = connections_.find(fd);
    if (it != connections_.end() && (events & EPOLLOUT))
        on_writable(it->second);
}

void Server::drop_after_failure(int fd, const char* what) {
    const auto it = connections_.find(fd);
    if (it == connections_.end())
        return;
    spdlog::error("varlink: closing the connection of uid {} pid {} after a failure: {}",
                  it->second.peer.uid, it->second.peer.pid, what);
    close_connection(fd);
}

void Server::accept_clients() {
    for (;;) {
        UniqueFd fd(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!fd) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                // The pending connection stays readable: stop watching it or the loop spins.
                spdlog::warn("varlink: accept: {}; pausing new connections", errno_text(errno));
                set_accepting(false);
            } else if (errno != EAGAIN) {
                spdlog::warn("varlink: accept: {}", errno_text(errno));
            }
            return;
        }
        // A failure here costs only the new connection (its fd closes on the way out).
        try {
            accept_one(std::move(fd));
        } catch (const std::exception& e) {
            spdlog::error("varlink: refusing a connection after a failure: {}", e.what());
        } catch (...) {
            spdlog::error("varlink: refusing a connection after a failure");
        }
    }
}

void Server::accept_one(UniqueFd fd) {
    auto peer = credentials_(fd.get());
    if (!peer) {
        spdlog::warn("varlink: cannot identify a client: {}", peer.error().message);
        return;
    }
    if (auto why = refusal(*peer)) {
        log_refusal("varlink: refusing a connection of uid " + std::to_string(peer->uid) + " pid " +
                    std::to_string(peer->pid) + ": " + *why);
        return; // fd closes here
    }
    auto& of_this_user = connections_per_uid_[peer->uid];
    const int raw = fd.get();
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = raw;
    if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, raw, &ev) != 0) {
        spdlog::warn("varlink: epoll_ctl: {}", errno_text(errno));
        return;
    }
    Connection c{.id = next_connection_id_++,
                 .fd = std::move(fd),
                 .peer = *peer,
                 .reader = MessageReader(limits_.max_message_size),
                 .events = EPOLLIN,
                 .last_activity = Clock::now()};
    // Should this throw, the fd closes, which takes it out of epoll too.
    connections_.emplace(raw, std::move(c));
    ++of_this_user;
    client_count_ = connections_.size();
}

std::optional<std::string> Server::refusal(const PeerCredentials& peer) const {
    if (peer.uid == 0)
        return std::nullopt; // root may always reset devices or set up swap
    if (connections_.size() >= limits_.max_clients)
        return std::to_string(connections_.size()) +
               " connections are open, the most for users other than root";
    const auto it = connections_per_uid_.find(peer.uid);
    if (it != connections_per_uid_.end() && it->second >= limits_.max_clients_per_user)
        return "it has " + std::to_string(it->second) + " connections open, the most for one user";
    return std::nullopt;
}

void Server::log_refusal(const std::string& what) {
    // A flood of connections must not become a flood of log lines.
    const auto now = Clock::now();
    if (last_refusal_logged_ != Clock::time_point{} &&
        now - last_refusal_logged_ < refusal_log_interval) {
        ++refusals_not_logged_;
        return;
    }
    if (refusals_not_logged_ != 0)
        spdlog::warn(
            "{} (and {} more refused in the last {} s)", what, refusals_not_logged_,
            std::chrono::duration_cast<std::chrono::seconds>(now - last_refusal_logged_).count());
    else
        spdlog::warn("{}", what);
    refusals_not_logged_ = 0;
    last_refusal_logged_ = now;
}

namespace {

// Bytes wait to be read on this socket.
bool has_input(int fd) {
    char byte;
    return ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

} // namespace

void Server::close_idle(Clock::time_point now) {
    std::vector<int> idle;
    if (limits_.idle_timeout > std::chrono::milliseconds::zero())
        for (const auto& [fd, c] : connections_)
            if (!c.waiting && now - c.last_activity >= limits_.idle_timeout && // its call runs
                !(c.output.empty() && has_input(fd))) // sent since the batch: it is read next
                idle.push_back(fd);
    for (int fd : idle) {
        const auto& c = connections_.at(fd);
        spdlog::debug(
            "varlink: closing the connection of uid {} pid {}: idle for {} ms", c.peer.uid,
            c.peer.pid,
            std::chrono::duration_cast<std::chrono::milliseconds>(now - c.last_activity).count());
        close_connection(fd);
    }
    if (refusals_not_logged_ != 0 && now - last_refusal_logged_ >= refusal_log_interval) {
        spdlog::warn(
            "varlink: refused {} more connections in the last {} s", refusals_not_logged_,
            std::chrono::duration_cast<std::chrono::seconds>(now - last_refusal_logged_).count());
        refusals_not_logged_ = 0;
        last_refusal_logged_ = now;
    }
}

void Server::on_readable(Connection& c) {
    const int fd = c.fd.get();
    std::string buffer(read_chunk, '\0');
    for (int round = 0; round < reads_per_wakeup; ++round) {
        // Replies not yet read by the client: wait for EPOLLOUT before taking more calls, so a
        // client that sends without reading cannot grow our buffer without bound. Likewise
        // while a deferred call runs: the socket's buffer holds what the client sends meanwhile.
        if (!c.output.empty() || c.waiting) break;
        const ssize_t n = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            close_connection(fd); // ECONNRESET and the like: only this client goes
            return;
        }
        if (n > 0)
            c.last_activity = Clock::now();
        if (n == 0) {
            if (c.output.empty()) {
                close_connection(fd);
                return;
            }
            c.peer_closed = true;
            break;
        }
        std::vector<std::string> messages;
        auto fed = c.reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(n)), messages);
        for (auto& text : messages) c.backlog.push_back(std::move(text));
        if (!run_backlog(c)) return;
        if (!fed) {
            spdlog::warn("varlink: closing client pid {}: {}", c.peer.pid, fed.error().message);
            close_connection(fd);
            return;
        }
    }
    update_interest(c);
}

bool Server::run_backlog(Connection& c) {
    const int fd = c.fd.get();
    const std::uint64_t id = c.id;
    while (!c.waiting && !c.backlog.empty()) {
        const std::string text = std::move(c.backlog.front());
        c.backlog.pop_front();
        auto call = parse_call(text);
        if (!call) {
            // A stream that carries garbage cannot be trusted to be in sync: drop it.
            spdlog::warn("varlink: closing client pid {}: {}", c.peer.pid, call.error().message);
            close_connection(fd);
            return false;
        }
        bool deferred = false;
        auto defer = [&]() -> DeferredReply {
            if (deferred) throw std::logic_error("varlink: " + call->method + " deferred twice");
            deferred = true;
            return DeferredReply(
                [completions = completions_, fd, id](Reply reply) {
                    completions->post(fd, id, std::move(reply));
                },
                [completions = completions_, fd, id] { completions->post(fd, id, std::nullopt); });
        };
        Reply reply;
        try {
            reply = dispatch(*call, c.peer, defer);
        } catch (const std::exception& e) {
            spdlog::error("varlink: {} failed: {}", call->method, e.what());
            close_connection(fd);
            return false;
        }
        if (deferred) {
            c.waiting = true;
            c.reply_wanted = !call->oneway;
            break;
        }
        if (!call->oneway) queue_reply(c, reply);
        if (!connections_.contains(fd)) return false; // the reply could not be sent
    }
    return true;
}

void Server::take_completions() {
    for (auto& done : completions_->take()) {
        const auto it = connections_.find(done.fd);
        // The client left meanwhile (its fd may even be another connection's now).
        if (it == connections_.end() || it->second.id != done.connection || !it->second.waiting)
            continue;
        Connection& c = it->second;
        c.waiting = false;
        if (!done.reply) {
            spdlog::error("varlink: closing the connection of uid {} pid {}: its call was dropped "
                          "unanswered",
                          c.peer.uid, c.peer.pid);
            close_connection(done.fd);
            continue;
        }
        try {
            if (c.reply_wanted) {
                queue_reply(c, *done.reply);
                if (!connections_.contains(done.fd)) continue;
            }
            // The calls that waited behind it, then reading again.
            if (!run_backlog(c)) continue;
            update_interest(c);
        } catch (const std::exception& e) {
            drop_after_failure(done.fd, e.what());
        } catch (...) {
            drop_after_failure(done.fd, "an exception that is not a std::exception");
        }
    }
}

void Server::queue_reply(Connection& c, const Reply& reply) {
    c.output += frame(serialise(reply));
    if (c.output.size() - c.output_sent > limits_.max_output_buffer) {
        spdlog::warn("varlink: closing client pid {}: {} bytes of replies unread", c.peer.pid,
                     c.output.size() - c.output_sent);
        close_connection(c.fd.get());
        return;
    }
    on_writable(c);
}

void Server::on_writable(Connection& c) {
    const int fd = c.fd.get();
    while (c.output_sent < c.output.size()) {
        const ssize_t n = ::send(fd, c.output.data() + c.output_sent, c.output.size() - c.output_sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            close_connection(fd); // EPIPE, ECONNRESET: the client is gone
            return;
        }
        c.output_sent += static_cast<std::size_t>(n);
        c.last_activity = Clock::now();
    }
    if (c.output_sent == c.output.size()) {
        c.output.clear();
        c.output_sent = 0;
        if (c.peer_closed) {
            close_connection(fd);
            return;
        }
    }
    update_interest(c);
}

void Server::update_interest(Connection& c) {
    std::uint32_t wanted = 0;
    if (!c.output.empty()) wanted = EPOLLOUT;
    else if (!c.peer_closed && !c.waiting) wanted = EPOLLIN;
    if (wanted == c.events) return;
    epoll_event ev{};
    ev.events = wanted;
    ev.data.fd = c.fd.get();
    if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev) != 0) {
        spdlog::warn("varlink: epoll_ctl: {}", errno_text(errno));
        close_connection(c.fd.get());
        return;
    }
    c.events = wanted;
}

void Server::close_connection(int fd) {
    const auto it = connections_.find(fd);
    if (it == connections_.end())
        return;
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd, nullptr);
    const auto uid = it->second.peer.uid;
    connections_.erase(it); // closes the fd
    if (auto of_user = connections_per_uid_.find(uid); of_user != connections_per_uid_.end())
        if (--of_user->second == 0)
            connections_per_uid_.erase(of_user);
    client_count_ = connections_.size();
    if (accept_paused_) set_accepting(true); // an fd is free again
}

void Server::set_accepting(bool on) {
    if (on == !accept_paused_) return;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = listen_fd_.get();
    if (::epoll_ctl(epoll_fd_.get(), on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, listen_fd_.get(), &ev) != 0) {
        spdlog::warn("varlink: epoll_ctl on the listening socket: {}", errno_text(errno));
        return;
    }
    accept_paused_ = !on;
    if (!on) paused_at_ = std::chrono::steady_clock::now();
}

Reply Server::dispatch(const Call& call, const PeerCredentials& peer) const {
    return dispatch(call, peer, {});
}

Reply Server::dispatch(const Call& call, const PeerCredentials& peer,
                       std::function<DeferredReply()> defer) const {
    if (call.upgrade) // this service speaks no other protocol after a reply
        return Reply::failure(errors::method_not_implemented, {{"method", call.method}});
    const auto iface_name = interface_of(call.method);
    const auto iface = interfaces_.find(iface_name);
    if (iface == interfaces_.end())
        return Reply::failure(errors::interface_not_found, {{"interface", iface_name}});
    if (iface_name == service_interface) return builtin(call);
    const auto method = iface->second.methods.find(call.method.substr(iface_name.size() + 1));
    if (method == iface->second.methods.end())
        return Reply::failure(errors::method_not_found, {{"method", call.method}});
    return method->second(CallContext{call, peer, std::move(defer)});
}

Reply Server::builtin(const Call& call) const {
    const auto& p = call.parameters;
    if (call.method == "org.varlink.service.GetInfo") {
        if (!p.empty()) return invalid_parameter(p.begin().key());
        Json names = Json::array();
        for (const auto& [name, _] : interfaces_) names.push_back(name);
        return Reply::ok({{"vendor", info_.vendor},
                          {"product", info_.product},
                          {"version", info_.version},
                          {"url", info_.url},
                          {"interfaces", names}});
    }
    if (call.method == "org.varlink.service.GetInterfaceDescription") {
        const auto it = p.find("interface");
        if (it == p.end() || !it->is_string()) return invalid_parameter("interface");
        for (const auto& [key, _] : p.items())
            if (key != "interface") return invalid_parameter(key);
        const auto name = it->get<std::string>();
        const auto iface = interfaces_.find(name);
        if (iface == interfaces_.end()) return Reply::failure(errors::interface_not_found, {{"interface", name}});
        return Reply::ok({{"description", iface->second.description}});
    }
    return Reply::failure(errors::method_not_found, {{"method", call.method}});
}

} // namespace trueno::varlink
