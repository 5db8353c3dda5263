// A varlink service: many clients on one AF_UNIX listening socket, served by an epoll loop on
// its own thread. Method handlers run on that thread, one call at a time, so a handler needs no
// locking against other calls; a slow or vanished client never blocks the others.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "trueno/result.hpp"
#include "trueno/varlink/framing.hpp"
#include "trueno/varlink/message.hpp"
#include "trueno/varlink/socket.hpp"
#include "trueno/unique_fd.hpp"

namespace trueno::varlink {

// What a handler knows about the call it answers.
struct CallContext {
    const Call& call;
    PeerCredentials peer; // as the kernel reported at connect time (SO_PEERCRED)
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
    std::size_t max_clients = 128;                          // further connections are closed at once
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
    struct Interface {
        std::string description;
        MethodTable methods;
    };
    struct Connection {
        UniqueFd fd;
        PeerCredentials peer;
        MessageReader reader;
        std::string output;        // framed replies not yet sent
        std::size_t output_sent = 0;
        bool peer_closed = false;  // read side finished: close once output is flushed
        std::uint32_t events = 0;  // what epoll watches now
    };

    // The thread's entry: the loop, restarted if anything escapes it.
    void run() noexcept;
    void serve();
    void on_event(int fd, std::uint32_t events);
    void accept_clients();
    void accept_one(UniqueFd fd);
    void on_readable(Connection& c);
    void on_writable(Connection& c);
    void queue_reply(Connection& c, const Reply& reply);
    void update_interest(Connection& c);
    void close_connection(int fd);
    void drop_after_failure(int fd, const char* what);
    void set_accepting(bool on);
    Reply builtin(const Call& call) const;

    ServiceInfo info_;
    ServerLimits limits_;
    CredentialSource credentials_;
    std::map<std::string, Interface> interfaces_;

    UniqueFd listen_fd_;
    UniqueFd epoll_fd_;
    UniqueFd stop_fd_; // eventfd: stop() writes it to wake the loop
    std::map<int, Connection> connections_;
    std::atomic<std::size_t> client_count_{0};
    bool accept_paused_ = false; // out of fds: the listening socket is out of epoll for now
    std::chrono::steady_clock::time_point paused_at_;
    std::thread thread_;
};

} // namespace trueno::varlink
