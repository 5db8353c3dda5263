// The Daemon interface over trueno-zramd's varlink socket (io.trueno.zram).
#pragma once

#include <memory>
#include <string>

#include "daemon.hpp"
#include "trueno/varlink/client.hpp"

namespace trueno::generator {

inline constexpr const char* kDefaultSocket = "/run/trueno-zram/io.trueno.zram";

class DaemonClient final : public Daemon {
public:
    // Errors say which socket and why (ENOENT: daemon not running, EACCES: not root ...).
    static Result<std::unique_ptr<DaemonClient>> connect(const std::string& socket_path);

    Result<std::vector<std::string>> algorithms() override;
    Result<std::vector<DaemonDevice>> list_devices() override;
    Result<int> create_device(const CreateRequest& request) override;
    Status set_attribute(int id, const std::string& name, const std::string& value) override;
    Status remove_device(int id) override;

private:
    explicit DaemonClient(varlink::Client client) : client_(std::move(client)) {}
    Result<varlink::Json> call(const std::string& method, const varlink::Json& parameters);

    varlink::Client client_;
};

} // namespace trueno::generator
