// The io.trueno.zram client: trueno-zramd's calls over its varlink socket, replies checked
// against the interface, failures as CallError. Used by trueno-zramctl and the generator.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "trueno/result.hpp"
#include "trueno/varlink/client.hpp"
#include "trueno/zram_client/call_error.hpp"
#include "trueno/zram_client/requests.hpp"

namespace trueno::zram_client {

template <typename T> using CallResult = Result<T, CallError>;

struct Timeouts {
    std::chrono::milliseconds connect = std::chrono::seconds(5);
    std::chrono::milliseconds call = std::chrono::seconds(30);
};

class Client {
public:
    // Connects on the first call (or connect()), so a command that needs no daemon never
    // touches the socket. A connection lost, or closed by the daemon while idle, is made again
    // at the next call.
    explicit Client(std::string socket_path, Timeouts timeouts = {});

    const std::string& socket_path() const { return socket_path_; }

    CallResult<void> connect();

    CallResult<std::vector<Device>> list_devices();
    CallResult<Attributes> attributes(int id);
    CallResult<CreatedDevice> create_device(const CreateDeviceRequest& request);
    CallResult<void> remove_device(int id);
    CallResult<void> set_attribute(int id, const std::string& name, const std::string& value);
    CallResult<DaemonInfo> daemon_info();

private:
    // The reply's parameters, or why there are none.
    CallResult<varlink::Json> call(const std::string& method, const varlink::Json& parameters);

    std::string socket_path_;
    Timeouts timeouts_;
    std::optional<varlink::Client> connection_;
};

} // namespace trueno::zram_client
