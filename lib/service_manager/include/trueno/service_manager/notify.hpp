// Telling the service manager about the service (sd_notify(3)): one datagram of
// newline-separated KEY=VALUE assignments to the AF_UNIX socket named in NOTIFY_SOCKET (a path,
// or "@" and an abstract name). The watchdog's interval comes in WATCHDOG_USEC, for the process
// in WATCHDOG_PID. These are systemd's stable interfaces, spoken directly for the reason given
// in activation.hpp.
#pragma once

#include "trueno/result.hpp"

#include <chrono>
#include <optional>
#include <string_view>
#include <sys/types.h>

namespace trueno::service_manager {

// Sends state to the socket that NOTIFY_SOCKET names. false when the variable is unset (not
// started by a service manager that listens): nothing to do. An error when the socket cannot be
// reached or the name is not a valid socket address.
Result<bool> notify(std::string_view state);

// The watchdog interval systemd expects pings within, for the process `self`, from
// WATCHDOG_USEC and WATCHDOG_PID (null when unset). None when the watchdog is off for it:
// WATCHDOG_USEC unset, zero or not a number, or WATCHDOG_PID naming another process.
std::optional<std::chrono::microseconds> watchdog_interval(const char* watchdog_usec,
                                                           const char* watchdog_pid, pid_t self);

// The same for this process, from its environment.
std::optional<std::chrono::microseconds> watchdog_interval();

// Whether the machine was booted with systemd as its init (sd_booted(3): /run/systemd/system/
// exists).
bool booted_with_systemd();

} // namespace trueno::service_manager
