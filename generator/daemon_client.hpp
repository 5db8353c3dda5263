// The Daemon interface over the io.trueno.zram client (trueno-zramd's varlink socket).
#pragma once

#include <memory>
#include <string>

#include "daemon.hpp"
#include "trueno/zram_client/client.hpp"

namespace trueno::generator {

inline constexpr const char* kDefaultSocket = zram_client::default_socket_path;

class DaemonClient final : public Daemon {
public:
    // Errors say which socket and why (ENOENT: daemon not running, EACCES: not root ...).
    static Result<std::unique_ptr<DaemonClient>> connect(const std::string& socket_path);

    Result<std::vector<std::string>> algorithms() override;
    Result<std::vector<Device>> list_devices() override;
    Result<int> create_device(const CreateDeviceRequest& request) override;
    Status set_attribute(int id, const std::string& name, const std::string& value) override;
    Status remove_device(int id) override;

private:
    explicit DaemonClient(std::string socket_path);

    zram_client::Client client_;
};

} // namespace trueno::generator
