// A spdlog sink that writes to the systemd journal over its native protocol: one datagram per
// entry to /run/systemd/journal/socket, with the line's own PRIORITY, so that journalctl -p
// finds errors. The protocol is the journal's stable interface
// (https://systemd.io/JOURNAL_NATIVE_PROTOCOL/); it is spoken here instead of through
// libsystemd's sd_journal_send, whose library and what it pulls in (libgcrypt, liblzma, libcap:
// 2.5 MB) every daemon and standby would keep locked in memory.
#pragma once

#include "trueno/result.hpp"
#include "trueno/unique_fd.hpp"

#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <string>
#include <string_view>

namespace trueno::service {

inline constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

// One journal entry in the native protocol: KEY=VALUE lines, or, for a value with a newline,
// KEY, a newline, the value's length as 64-bit little-endian, the value and a newline.
std::string journal_entry(std::string_view message, int priority, std::string_view identifier,
                          long thread_id);

// The syslog priority of a spdlog level (trace and debug 7, info 6, warn 4, error 3, critical 2).
int journal_priority(spdlog::level::level_enum level);

class JournalSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    // Connects to the journal's socket; an error when it cannot (no journald).
    static Result<std::shared_ptr<JournalSink>> open(std::string identifier,
                                                     std::string socket = kJournalSocket);

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

private:
    JournalSink(std::string identifier, std::string socket, UniqueFd fd);
    Status send(const std::string& entry);

    std::string identifier_;
    std::string socket_;
    UniqueFd fd_;
};

} // namespace trueno::service
