// io.trueno.zram method handlers.
#include "zram_control.hpp"

#include <climits>
#include <initializer_list>
#include <new>
#include <optional>
#include <string_view>
#include <variant>

#include "attribute_parsers.hpp"
#include "error_replies.hpp"
#include "interface_description.hpp"

namespace trueno::service {

namespace {

using varlink::Json;
using varlink::Reply;

constexpr std::int64_t max_streams = 1024; // more compression streams than this is a typo
constexpr unsigned root_uid = 0;

std::string qualified(std::string_view method) { return std::string(zram_interface_name) + "." + std::string(method); }

// A parameter check that failed carries the reply to send.
template <typename T> using Checked = std::variant<T, Reply>;

// Refuses parameters the method does not have: a typo must not be silently ignored.
std::optional<Reply> reject_unknown(const Json& params, std::initializer_list<std::string_view> known) {
    for (const auto& [key, _] : params.items()) {
        bool ok = false;
        for (auto k : known) ok = ok || key == k;
        if (!ok) return varlink::invalid_parameter(key);
    }
    return std::nullopt;
}

// An integer parameter: absent or null gives nullopt (the caller decides if that is allowed);
// a non-integer (string, float, bool) is InvalidParameter.
Checked<std::optional<std::int64_t>> int_param(const Json& params, const char* name) {
    const auto it = params.find(name);
    if (it == params.end() || it->is_null()) return std::optional<std::int64_t>{};
    if (it->is_number_unsigned()) {
        const auto v = it->get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(INT64_MAX)) return invalid_argument(name, "out of range", ERANGE);
        return std::optional<std::int64_t>(static_cast<std::int64_t>(v));
    }
    if (!it->is_number_integer()) return varlink::invalid_parameter(name);
    return std::optional<std::int64_t>(it->get<std::int64_t>());
}

Checked<std::optional<std::string>> string_param(const Json& params, const char* name) {
    const auto it = params.find(name);
    if (it == params.end() || it->is_null()) return std::optional<std::string>{};
    if (!it->is_string()) return varlink::invalid_parameter(name);
    return std::optional<std::string>(it->get<std::string>());
}

// A required device id: an int in 0..INT_MAX.
Checked<int> device_id(const Json& params) {
    auto id = int_param(params, "id");
    if (auto* r = std::get_if<Reply>(&id)) return *r;
    const auto& v = std::get<0>(id);
    if (!v) return varlink::invalid_parameter("id");
    if (*v < 0 || *v > INT_MAX) return invalid_argument("id", "device ids are 0.." + std::to_string(INT_MAX), ERANGE);
    return static_cast<int>(*v);
}

bool is_root(const varlink::CallContext& ctx) { return ctx.peer.uid == root_uid; }

Json attributes_json(const AttributeMap& attributes) {
    Json out = Json::object();
    for (const auto& [k, v] : attributes) out[k] = v;
    return out;
}

// Runs a handler body; a DeviceManager that throws yields SystemError, never a dead daemon.
template <typename F> Reply guarded(const char* method, F&& body) {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return error_reply(make_error(ENOMEM, "out of memory"), {qualified(method), std::nullopt, ""});
    } catch (const std::exception& e) {
        return error_reply(make_error(EIO, e.what()), {qualified(method), std::nullopt, ""});
    }
}

} // namespace

ZramControl::ZramControl(DeviceManager& devices, DaemonInfo info) : devices_(devices), info_(std::move(info)) {}

Reply ZramControl::list_devices(const varlink::CallContext& ctx) {
    return guarded("ListDevices", [&]() -> Reply {
        if (auto r = reject_unknown(ctx.call.parameters, {})) return *r;
        Json devices = Json::array();
        for (const auto& d : devices_.list()) {
            auto attributes = devices_.read_attributes(d.id);
            if (!attributes) {
                if (attributes.error().code == ENODEV) continue; // removed since list()
                return error_reply(attributes.error(), {qualified("ListDevices"), d.id, ""});
            }
            devices.push_back({{"id", d.id}, {"name", d.name}, {"attributes", attributes_json(*attributes)}});
        }
        return Reply::ok({{"devices", devices}});
    });
}

Reply ZramControl::create_device(const varlink::CallContext& ctx) {
    const auto method = qualified("CreateDevice");
    if (!is_root(ctx)) return permission_denied(method);
    return guarded("CreateDevice", [&]() -> Reply {
        const auto& p = ctx.call.parameters;
        if (auto r = reject_unknown(p, {"size", "algorithm", "params", "mem_limit", "id", "streams"})) return *r;

        DeviceSpec spec;
        auto size = int_param(p, "size");
        if (auto* r = std::get_if<Reply>(&size)) return *r;
        if (!std::get<0>(size)) return varlink::invalid_parameter("size");
        if (*std::get<0>(size) <= 0) return invalid_argument("size", "size must be a positive number of bytes");
        spec.size = static_cast<std::uint64_t>(*std::get<0>(size));

        auto algorithm = string_param(p, "algorithm");
        if (auto* r = std::get_if<Reply>(&algorithm)) return *r;
        if (std::get<0>(algorithm)) spec.algorithm = *std::get<0>(algorithm);

        auto params = string_param(p, "params");
        if (auto* r = std::get_if<Reply>(&params)) return *r;
        if (std::get<0>(params)) spec.params = *std::get<0>(params);

        auto mem_limit = int_param(p, "mem_limit");
        if (auto* r = std::get_if<Reply>(&mem_limit)) return *r;
        if (const auto& v = std::get<0>(mem_limit)) {
            if (*v < 0) return invalid_argument("mem_limit", "mem_limit must be 0 (none) or a number of bytes");
            spec.mem_limit = static_cast<std::uint64_t>(*v);
        }

        auto id = int_param(p, "id");
        if (auto* r = std::get_if<Reply>(&id)) return *r;
        if (const auto& v = std::get<0>(id)) {
            if (*v < -1 || *v > INT_MAX)
                return invalid_argument("id", "id must be -1 (any) or 0.." + std::to_string(INT_MAX), ERANGE);
            spec.id = static_cast<int>(*v);
        }

        auto streams = int_param(p, "streams");
        if (auto* r = std::get_if<Reply>(&streams)) return *r;
        if (const auto& v = std::get<0>(streams)) {
            if (*v < 0 || *v > max_streams)
                return invalid_argument("streams", "streams must be 0 (one per CPU) up to " + std::to_string(max_streams), ERANGE);
            spec.streams = static_cast<unsigned>(*v);
        }

        auto created = devices_.create(spec);
        if (!created) {
            const std::optional<int> wanted = spec.id >= 0 ? std::optional<int>(spec.id) : std::nullopt;
            return error_reply(created.error(), {method, wanted, "CreateDevice"});
        }
        return Reply::ok({{"id", created->id}, {"name", created->name}});
    });
}

Reply ZramControl::remove_device(const varlink::CallContext& ctx) {
    const auto method = qualified("RemoveDevice");
    if (!is_root(ctx)) return permission_denied(method);
    return guarded("RemoveDevice", [&]() -> Reply {
        if (auto r = reject_unknown(ctx.call.parameters, {"id"})) return *r;
        auto id = device_id(ctx.call.parameters);
        if (auto* r = std::get_if<Reply>(&id)) return *r;
        if (auto s = devices_.remove(std::get<int>(id)); !s)
            return error_reply(s.error(), {method, std::get<int>(id), "id"});
        return Reply::ok();
    });
}

Reply ZramControl::get_attributes(const varlink::CallContext& ctx) {
    return guarded("GetAttributes", [&]() -> Reply {
        if (auto r = reject_unknown(ctx.call.parameters, {"id"})) return *r;
        auto id = device_id(ctx.call.parameters);
        if (auto* r = std::get_if<Reply>(&id)) return *r;
        auto attributes = devices_.read_attributes(std::get<int>(id));
        if (!attributes) return error_reply(attributes.error(), {qualified("GetAttributes"), std::get<int>(id), "id"});
        return Reply::ok({{"attributes", attributes_json(*attributes)}});
    });
}

Reply ZramControl::set_attribute(const varlink::CallContext& ctx) {
    const auto method = qualified("SetAttribute");
    if (!is_root(ctx)) return permission_denied(method);
    return guarded("SetAttribute", [&]() -> Reply {
        const auto& p = ctx.call.parameters;
        if (auto r = reject_unknown(p, {"id", "name", "value"})) return *r;
        auto id = device_id(p);
        if (auto* r = std::get_if<Reply>(&id)) return *r;
        auto name = string_param(p, "name");
        if (auto* r = std::get_if<Reply>(&name)) return *r;
        if (!std::get<0>(name) || std::get<0>(name)->empty()) return varlink::invalid_parameter("name");
        auto value = string_param(p, "value");
        if (auto* r = std::get_if<Reply>(&value)) return *r;
        if (!std::get<0>(value)) return varlink::invalid_parameter("value");
        const int device = std::get<int>(id);
        const auto& attr = *std::get<0>(name);
        // Writing "reset" removes the device and all on it: take only what the kernel's
        // reset_store takes (a nonzero u16 in base 10), not "0" or a typo.
        if (attr == "reset") {
            auto n = kstrto<std::uint32_t>(*std::get<0>(value), 10);
            if (!n) return error_reply(n.error(), {method, device, attr});
            if (*n == 0) return invalid_argument(attr, "reset takes a nonzero number (\"1\")");
            if (*n > 0xffff) return invalid_argument(attr, "reset takes a number up to 65535", ERANGE);
        }
        auto reply_for = [method, device, attr](const Status& s) {
            return s ? Reply::ok() : error_reply(s.error(), {method, device, attr});
        };
        if (!ctx.defer) return reply_for(devices_.write_attribute(device, attr, *std::get<0>(value)));
        // The reply goes when the write is done, as the kernel's write returns then; a slow
        // one (compact, idle) runs on the device's worker meanwhile and this thread serves
        // other clients. The caller's next call waits for this reply (the server keeps order).
        auto deferred = ctx.defer();
        devices_.write_attribute_async(device, attr, *std::get<0>(value),
                                       [deferred, reply_for](Status s) { deferred.send(reply_for(s)); });
        return Reply::ok(); // ignored: the deferred reply answers
    });
}

Reply ZramControl::get_daemon_info(const varlink::CallContext& ctx) {
    if (auto r = reject_unknown(ctx.call.parameters, {})) return *r;
    return Reply::ok({{"version", info_.version},
                      {"algorithms", info_.algorithms},
                      {"ublk_features", info_.ublk_features},
                      {"user_copy", info_.user_copy}});
}

varlink::MethodTable ZramControl::methods() {
    return {
        {"ListDevices", [this](const varlink::CallContext& c) { return list_devices(c); }},
        {"CreateDevice", [this](const varlink::CallContext& c) { return create_device(c); }},
        {"RemoveDevice", [this](const varlink::CallContext& c) { return remove_device(c); }},
        {"GetAttributes", [this](const varlink::CallContext& c) { return get_attributes(c); }},
        {"SetAttribute", [this](const varlink::CallContext& c) { return set_attribute(c); }},
        {"GetDaemonInfo", [this](const varlink::CallContext& c) { return get_daemon_info(c); }},
    };
}

void register_zram_control(varlink::Server& server, ZramControl& control) {
    server.add_interface(std::string(zram_interface_name), std::string(zram_interface_description()), control.methods());
}

} // namespace trueno::service
