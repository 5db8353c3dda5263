#include "trueno/zram_client/call_error.hpp"

#include <cerrno>

namespace trueno::zram_client {

namespace {

// The positive "errno" parameter of an error that carries one.
int carried_errno(const varlink::Json& parameters, int otherwise) {
    const auto it = parameters.find("errno");
    if (it == parameters.end() || !it->is_number_integer())
        return otherwise;
    const auto code = it->get<long long>();
    return code > 0 && code < 4096 ? static_cast<int>(code) : otherwise;
}

} // namespace

std::string CallError::short_name() const {
    const auto dot = error_name.rfind('.');
    return dot == std::string::npos ? error_name : error_name.substr(dot + 1);
}

std::string CallError::text(const char* key) const {
    if (!parameters.is_object())
        return {};
    const auto it = parameters.find(key);
    return it != parameters.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

int errno_for(const std::string& error_name, const varlink::Json& parameters) {
    if (error_name == "io.trueno.zram.NoSuchDevice")
        return ENODEV;
    if (error_name == "io.trueno.zram.DeviceExists")
        return EEXIST;
    if (error_name == "io.trueno.zram.DeviceBusy")
        return EBUSY;
    if (error_name == "io.trueno.zram.InvalidArgument")
        return carried_errno(parameters, EINVAL);
    if (error_name == "io.trueno.zram.SystemError")
        return carried_errno(parameters, EIO);
    if (error_name == "io.trueno.zram.PermissionDenied" ||
        error_name == varlink::errors::permission_denied)
        return EACCES;
    if (error_name == varlink::errors::invalid_parameter)
        return EINVAL;
    if (error_name == varlink::errors::method_not_found ||
        error_name == varlink::errors::interface_not_found ||
        error_name == varlink::errors::method_not_implemented)
        return EOPNOTSUPP;
    return carried_errno(parameters, EIO);
}

CallError refusal(const std::string& method, const varlink::Reply& reply) {
    CallError e;
    e.failure = Failure::refused;
    e.method = method;
    e.error_name = reply.error.value_or("");
    e.parameters = reply.parameters.is_object() ? reply.parameters : varlink::Json::object();
    e.code = errno_for(e.error_name, e.parameters);
    return e;
}

} // namespace trueno::zram_client
