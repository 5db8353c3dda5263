// Why a call to trueno-zramd failed, with the errno it stands for: the one error-to-errno map of
// the io.trueno.zram clients. Each client words the message its own way.
#pragma once

#include <string>

#include "trueno/varlink/message.hpp"

namespace trueno::zram_client {

enum class Failure {
    unreachable, // no connection: code is connect()'s errno (ENOENT: no socket, ECONNREFUSED ...)
    lost,        // the connection broke or timed out during the call (ECONNRESET, ETIMEDOUT ...)
    bad_reply,   // a reply that does not match the interface (EPROTO)
    refused,     // the daemon answered with an error: code is the errno it stands for
};

struct CallError {
    Failure failure = Failure::refused;
    int code = 0;             // errno
    std::string method;       // "CreateDevice"
    std::string message;      // unreachable, lost, bad_reply: what happened
    std::string error_name;   // refused: "io.trueno.zram.DeviceBusy"
    varlink::Json parameters; // refused: the error's parameters

    // The error's name after its interface ("DeviceBusy"); empty unless refused.
    std::string short_name() const;
    // A string parameter of the refusal ("reason", "operation"); empty when there is none.
    std::string text(const char* key) const;
};

// The errno an io.trueno.zram or org.varlink.service error stands for: NoSuchDevice ENODEV,
// DeviceExists EEXIST, DeviceBusy EBUSY, PermissionDenied EACCES, InvalidParameter EINVAL,
// method or interface not found EOPNOTSUPP; InvalidArgument and SystemError carry their own
// (else EINVAL and EIO); anything else EIO.
int errno_for(const std::string& error_name, const varlink::Json& parameters);

// A refused call as CallError.
CallError refusal(const std::string& method, const varlink::Reply& reply);

} // namespace trueno::zram_client
