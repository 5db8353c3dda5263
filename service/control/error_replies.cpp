// errno -> io.trueno.zram errors.
#include "error_replies.hpp"

#include "interface_description.hpp"

namespace trueno::service {

namespace {

std::string error_name(const char* short_name) { return std::string(zram_interface_name) + "." + short_name; }

} // namespace

varlink::Reply invalid_argument(const std::string& name, const std::string& reason, int code) {
    return varlink::Reply::failure(error_name("InvalidArgument"),
                                   {{"name", name}, {"reason", reason}, {"errno", code}});
}

varlink::Reply permission_denied(const std::string& method) {
    return varlink::Reply::failure(error_name("PermissionDenied"), {{"method", method}});
}

varlink::Reply error_reply(const Error& error, const ErrorContext& context) {
    const int id = context.id.value_or(-1);
    switch (error.code) {
    case ENODEV:
        // The writeback attribute's ENODEV (the kernel's) means "no backing device", not "no
        // such zram device": the client must see the reason.
        if (context.name == "writeback")
            return invalid_argument(context.name, error.message, error.code);
        return varlink::Reply::failure(error_name("NoSuchDevice"), {{"id", id}});
    case EEXIST: return varlink::Reply::failure(error_name("DeviceExists"), {{"id", id}});
    case EBUSY:
        return varlink::Reply::failure(error_name("DeviceBusy"), {{"id", id}, {"reason", error.message}});
    case EPERM: return permission_denied(context.method);
    case EINVAL:
    case ERANGE:
    case E2BIG:
    case ENOENT:
    case EACCES:
    case EOPNOTSUPP:
    case ENAMETOOLONG: return invalid_argument(context.name, error.message, error.code);
    default:
        return varlink::Reply::failure(error_name("SystemError"), {{"operation", context.method},
                                                                   {"errno", error.code},
                                                                   {"reason", error.message}});
    }
}

} // namespace trueno::service
