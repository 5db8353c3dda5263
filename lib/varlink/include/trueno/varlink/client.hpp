// A varlink client: one connection, one call at a time, each bounded by a timeout.
#pragma once

#include <chrono>
#include <string>

#include "trueno/result.hpp"
#include "trueno/varlink/framing.hpp"
#include "trueno/varlink/message.hpp"
#include "trueno/unique_fd.hpp"

namespace trueno::varlink {

class Client {
public:
    // Errors name the path: ENOENT "no such socket", ECONNREFUSED "nothing listening", ...
    static Result<Client> connect(const std::string& path,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(5));
    explicit Client(UniqueFd connected, std::size_t max_message_size = default_max_message_size);

    // Sends the call and waits for its reply. A varlink error is a successful Result holding a
    // Reply with error set; the Error side is the transport: ETIMEDOUT, ECONNRESET (the service
    // closed the connection), EPROTO (a reply that is not varlink), E2BIG. After a transport
    // error the connection is unusable (ENOTCONN for later calls): a late reply would be
    // mistaken for the next call's.
    Result<Reply> call(const std::string& method, const Json& parameters = Json::object(),
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

    // A oneway call: sent, never answered.
    Status send_oneway(const std::string& method, const Json& parameters = Json::object());

    // False after a transport error, or once the service has closed the connection (as it
    // does with idle ones): a call would fail, connect again instead.
    bool is_open() const;

private:
    Status send_all(const std::string& wire, std::chrono::steady_clock::time_point deadline);
    Result<std::string> receive_one(std::chrono::steady_clock::time_point deadline);

    UniqueFd fd_;
    MessageReader reader_;
    std::vector<std::string> received_; // messages read past the one asked for
};

} // namespace trueno::varlink
