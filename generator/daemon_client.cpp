#include "daemon_client.hpp"

#include <chrono>

namespace trueno::generator {
namespace {

using zram_client::CallError;
using zram_client::Failure;

// "Method: what happened", with the errno the client found for it.
Error to_error(const CallError& e) {
    if (e.failure == Failure::bad_reply)
        return make_error(e.code, e.method + ": unexpected reply: " + e.message);
    if (e.failure != Failure::refused)
        return make_error(e.code, e.method + ": " + e.message);
    std::string message = e.method + ": " + e.short_name();
    if (const auto name = e.text("name"); !name.empty())
        message += " (" + name + ")";
    if (const auto parameter = e.text("parameter"); !parameter.empty())
        message += " (parameter " + parameter + ")";
    if (const auto reason = e.text("reason"); !reason.empty())
        message += ": " + reason;
    return make_error(e.code, message);
}

template <typename T> Result<T> plain(zram_client::CallResult<T> r) {
    if (!r)
        return to_error(r.error());
    return std::move(r.value());
}

Status plain(zram_client::CallResult<void> r) {
    if (!r)
        return to_error(r.error());
    return {};
}

} // namespace

// Creating a device allocates and starts ublk queues: allow it time on a loaded machine.
DaemonClient::DaemonClient(std::string socket_path)
    : client_(std::move(socket_path),
              zram_client::Timeouts{std::chrono::seconds(10), std::chrono::seconds(60)}) {}

Result<std::unique_ptr<DaemonClient>> DaemonClient::connect(const std::string& socket_path) {
    std::unique_ptr<DaemonClient> daemon(new DaemonClient(socket_path));
    if (auto c = daemon->client_.connect(); !c)
        return make_error(c.error().code,
                          "cannot reach trueno-zramd at " + socket_path + ": " + c.error().message);
    return daemon;
}

Result<std::vector<std::string>> DaemonClient::algorithms() {
    auto info = client_.daemon_info();
    if (!info)
        return to_error(info.error());
    return std::move(info->algorithms);
}

Result<std::vector<Device>> DaemonClient::list_devices() {
    return plain(client_.list_devices());
}

Result<int> DaemonClient::create_device(const CreateDeviceRequest& request) {
    auto created = client_.create_device(request);
    if (!created)
        return to_error(created.error());
    return created->id;
}

Status DaemonClient::set_attribute(int id, const std::string& name, const std::string& value) {
    return plain(client_.set_attribute(id, name, value));
}

Status DaemonClient::remove_device(int id) {
    return plain(client_.remove_device(id));
}

} // namespace trueno::generator
