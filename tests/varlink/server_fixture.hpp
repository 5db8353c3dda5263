// A varlink service on a temporary socket for the server tests, and raw clients to poke it with:
// connections that pose as another user, half calls, calls whose replies are never read.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "temp_dir.hpp"
#include "trueno/unique_fd.hpp"
#include "trueno/varlink/client.hpp"
#include "trueno/varlink/server.hpp"
#include "trueno/varlink/socket.hpp"

namespace trueno::testing {

inline const char* test_description = "# A test interface.\ninterface org.example.test\n\nmethod "
                                      "Echo(value: string) -> (value: string)\n";

// A server with org.example.test: Echo, Sleep (blocks the loop), Big (a large reply), WhoAmI,
// Throw (a std::exception) and ThrowInt (an exception that is not one).
struct TestService {
    TempDir dir;
    std::string path = dir / "run/sub/test.sock";
    varlink::Server server;
    std::atomic<int> calls{0};  // Echo calls
    std::atomic<int> sleeps{0}; // Sleep calls begun

    explicit TestService(varlink::ServerLimits limits = {},
                         varlink::CredentialSource creds = varlink::peer_credentials);

    varlink::Client client();
};

// Credentials for a test: the uid a connection poses as (connect_as), else SO_PEERCRED.
Result<varlink::PeerCredentials> posed_credentials(int fd);

// A connection that posed_credentials reports as uid: the client socket is bound to an abstract
// address naming the uid, which the server side reads back with getpeername.
UniqueFd connect_as(const std::string& path, unsigned uid);

UniqueFd raw_connect(const std::string& path);
void raw_send(int fd, const std::string& bytes);

// True when the server closes the connection (EOF or reset) within the time, discarding data.
bool closed_by_server(int fd, std::chrono::milliseconds within = std::chrono::seconds(3));

// True when the server closes the connection within the time, without reading from fd: the
// data it sent stays queued (a test of what the server does with a client that never reads).
bool hung_up_by_server(int fd, std::chrono::milliseconds within);

// How many of fds the server has closed once `expected` of them are, or the time is up.
std::size_t wait_until_closed(const std::vector<UniqueFd>& fds, std::size_t expected,
                              std::chrono::milliseconds within = std::chrono::seconds(5));

// Waits (bounded) until the server holds n connections; false if it never does.
bool wait_for_client_count(const varlink::Server& server, std::size_t n,
                           std::chrono::milliseconds within = std::chrono::seconds(5));

varlink::Reply must_call(varlink::Client& c, const std::string& method,
                         const varlink::Json& params = varlink::Json::object());

} // namespace trueno::testing
