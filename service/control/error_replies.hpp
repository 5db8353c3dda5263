// Turns an errno-carrying Error into the io.trueno.zram varlink error a client should see.
#pragma once

#include <optional>
#include <string>

#include "trueno/result.hpp"
#include "trueno/varlink/message.hpp"

namespace trueno::service {

// What the failed call was about, to fill in the error's parameters.
struct ErrorContext {
    std::string method;         // fully qualified, for PermissionDenied and SystemError
    std::optional<int> id;      // the device, when there is one
    std::string name;           // the parameter or attribute at fault, for InvalidArgument
};

// ENODEV -> NoSuchDevice (but InvalidArgument for the writeback attribute: no backing device),
// EEXIST -> DeviceExists, EBUSY -> DeviceBusy, EPERM -> PermissionDenied,
// EINVAL/ERANGE/E2BIG/ENOENT/EACCES/EOPNOTSUPP/ENAMETOOLONG -> InvalidArgument, anything else ->
// SystemError.
varlink::Reply error_reply(const Error& error, const ErrorContext& context);

// Shorthands for errors raised by the handlers themselves.
varlink::Reply invalid_argument(const std::string& name, const std::string& reason, int code = EINVAL);
varlink::Reply permission_denied(const std::string& method);

} // namespace trueno::service
