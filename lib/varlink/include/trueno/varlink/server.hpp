// A varlink service: many clients on one AF_UNIX listening socket, served by an epoll loop on
// its own thread. Method handlers run on that thread, one call at a time, so a handler needs no
// locking against other calls; a slow or vanished client never blocks the others. A handler
// whose work takes long hands it elsewhere and answers later (CallContext::defer), so it does
// not block the others either.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "trueno/result.hpp"
#include "trueno/unique_fd.hpp"
#include "trueno/varlink/framing.hpp"
#include "trueno/varlink/message.hpp"
#include "trueno/varlink/socket.hpp"

namespace trueno::varlink {

// The answer to a call that its handler left for later: whoever finishes the work sends it,
// from any thread. Copies share the one call; the first send() answers it and later ones do
// nothing. When the last copy goes without a send() (the work was dropped), the call's
// connection is closed, as when a handler throws, so its client is not left waiting forever.
class DeferredReply {
public:
    DeferredReply() = default; // answers nothing
    // deliver takes the reply (on the thread that sends it); abandoned runs, on the thread that
    // drops the last copy, if none was sent. Neither may throw.
    DeferredReply(std::function<void(Reply)> deliver, std::function<void()> abandoned);

    void send(Reply reply) const;
    bool valid() const { return state_ != nullptr; }

private:
    struct State;
    std::shared_ptr<State> state_;
};

// What a handler knows about the call it answers.
struct CallContext {
    const Call& call;
    PeerCredentials peer; // as the kernel reported at connect time (SO_PEERCRED)
    // Set when the caller can take the reply later (the server's loop does): a handler that
    // cannot answer at once calls it, gives the DeferredReply to the work, and returns (what it
    // returns is then ignored). The connection's later calls wait until this one is answered,
    // so replies keep their order; other connections are served meanwhile. Empty (as in
    // dispatch() without a loop): the handler must answer before it returns.
    std::function<DeferredReply()> defer = {};
};

// Returns the reply (or error reply). A handler of a oneway call still returns one; it is
// dropped. Exceptions are caught: the client's connection is closed and the service goes on.
using MethodHandler = std::function<Reply(const CallContext&)>;

// Handlers of one interface by short method name ("ListDevices").
using MethodTable = std::map<std::string, MethodHandler>;

// What org.varlink.service.GetInfo answers.
struct ServiceInfo {
    std::string vendor;
    std::string product;
    std::string version;
    std::string url;
};

struct ServerLimits {
    // Connections of all users together, and of any one user but root (sd-varlink's defaults).
    // Root's connections are accepted beyond both, so no other user can lock root out; and
    // start() lowers max_clients to half of RLIMIT_NOFILE, so the fds for them are there too.
    std::size_t max_clients = 4096;
    std::size_t max_clients_per_user = 1024;
    // A connection with nothing read or written for this long is closed (zero: never). A call
    // in progress holds the loop, so a connection is never idle while its call runs.
    std::chrono::milliseconds idle_timeout = std::chrono::seconds(60);
    std::size_t max_message_size = default_max_message_size; // a larger call closes its connection
    std::size_t max_output_buffer = 16 * 1024 * 1024;       // replies a client has not read
};

// Where a connection's credentials come from; injectable so tests can pose as another user.
using CredentialSource = std::function<Result<PeerCredentials>(int fd)>;

class Server {
public:
    explicit Server(ServiceInfo info, ServerLimits limits = {},
                    CredentialSource credentials = peer_credentials);
    ~Server(); // stops the loop and closes every connection
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Registers an interface with its .varlink description text. Only before start();
    // std::logic_error afterwards or for a name registered twice.
    void add_interface(std::string name, std::string description, MethodTable methods);

    // Serves listen_fd (non-blocking, listening) on a new thread until stop().
    Status start(UniqueFd listen_fd);

    // Ends the loop from any thread and waits for it; idempotent.
    void stop();

    // What the loop does with one parsed call; public so dispatch is testable without sockets.
    Reply dispatch(const Call& call, const PeerCredentials& peer) const;

    std::size_t client_count() const { return client_count_.load(); }

private:
    // Deferred replies on their way from other threads to the loop; shared with every
    // DeferredReply, so one sent after stop() (or after the server is gone) is dropped safely.
    struct Completions;
    struct Interface {
        std::string description;
        MethodTable methods;
    };
    using Clock = std::chrono::steady_clock;
    struct Connection {
        std::uint64_t id = 0; // unique for the server's life: fds are reused, ids are not
        UniqueFd fd;
        PeerCredentials peer;
        MessageReader reader;
        std::string output;        // framed replies not yet sent
        std::size_t output_sent = 0;
        bool peer_closed = false;  // read side finished: close once output is flushed
        std::uint32_t events = 0;  // what epoll watches now
        Clock::time_point last_activity; // of the last byte read or written
        std::deque<std::string> backlog; // calls received, not yet dispatched
        bool waiting = false;      // a deferred call is not answered yet: nothing else runs
        bool reply_wanted = false; // ... and it was not oneway
    };

    // The thread's entry: the loop, restarted if anything escapes it.
    void run() noexcept;
    void serve();
    int wait_timeout_ms() const;
    void on_event(int fd, std::uint32_t events);
    void accept_clients();
    void accept_one(UniqueFd fd);
    std::optional<std::string> refusal(const PeerCredentials& peer) const;
    void log_refusal(const std::string& what);
    void close_idle(Clock::time_point now);
    void on_readable(Connection& c);
    // Dispatches c's backlog in order until it is empty or a call is deferred; false when the
    // connection was closed meanwhile.
    bool run_backlog(Connection& c);
    void take_completions();
    void on_writable(Connection& c);
    void queue_reply(Connection& c, const Reply& reply);
    void update_interest(Connection& c);
    void close_connection(int fd);
    void drop_after_failure(int fd, const char* what);
    void set_accepting(bool on);
    Reply builtin(const Call& call) const;
    Reply dispatch(const Call& call, const PeerCredentials& peer,
                   std::function<DeferredReply()> defer) const;

    ServiceInfo info_;
    ServerLimits limits_;
    CredentialSource credentials_;
    std::map<std::string, Interface> interfaces_;

    UniqueFd listen_fd_;
    UniqueFd epoll_fd_;
    UniqueFd stop_fd_; // eventfd: stop() writes it to wake the loop
    std::shared_ptr<Completions> completions_;
    std::map<int, Connection> connections_;
    std::uint64_t next_connection_id_ = 1;
    std::map<unsigned, std::size_t> connections_per_uid_;
    std::atomic<std::size_t> client_count_{0};
    bool accept_paused_ = false; // out of fds: the listening socket is out of epoll for now
    Clock::time_point paused_at_;
    Clock::time_point next_idle_check_;
    // Refusals are logged at most once per interval, with a count of those not logged.
    Clock::time_point last_refusal_logged_;
    std::size_t refusals_not_logged_ = 0;
    std::thread thread_;
};

} // namespace trueno::varlink
