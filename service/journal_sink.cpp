#include "journal_sink.hpp"

#include "trueno/unix_address.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

namespace trueno::service {

namespace {

// A message longer than this is cut: an entry is one datagram, which the socket's buffer bounds.
constexpr std::size_t kMaxMessage = 48 * 1024;

void append_field(std::string& entry, std::string_view key, std::string_view value) {
    entry += key;
    if (value.find('\n') == std::string_view::npos) {
        entry += '=';
        entry += value;
    } else {
        entry += '\n';
        std::uint64_t size = value.size();
        for (int byte = 0; byte < 8; ++byte, size >>= 8)
            entry += static_cast<char>(size & 0xff);
        entry += value;
    }
    entry += '\n';
}

Result<UniqueFd> connect_journal(const std::string& path) {
    auto address = unix_address(path);
    if (!address)
        return make_error(address.error().code, "journal socket: " + address.error().message);
    UniqueFd fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd)
        return errno_error(errno, "socket(AF_UNIX, SOCK_DGRAM)");
    if (::connect(fd.get(), address->get(), address->length) != 0)
        return errno_error(errno, "cannot connect to the journal at " + path);
    return fd;
}

} // namespace

std::string journal_entry(std::string_view message, int priority, std::string_view identifier,
                          long thread_id) {
    std::string entry;
    entry.reserve(message.size() + 96);
    append_field(entry, "PRIORITY", std::to_string(priority));
    append_field(entry, "SYSLOG_IDENTIFIER", identifier);
    append_field(entry, "TID", std::to_string(thread_id));
    append_field(entry, "MESSAGE", message.substr(0, kMaxMessage));
    return entry;
}

int journal_priority(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::critical:
        return 2;
    case spdlog::level::err:
        return 3;
    case spdlog::level::warn:
        return 4;
    case spdlog::level::info:
        return 6;
    default:
        return 7; // trace, debug
    }
}

Result<std::shared_ptr<JournalSink>> JournalSink::open(std::string identifier, std::string socket) {
    auto fd = connect_journal(socket);
    if (!fd)
        return fd.error();
    return std::shared_ptr<JournalSink>(
        new JournalSink(std::move(identifier), std::move(socket), std::move(*fd)));
}

JournalSink::JournalSink(std::string identifier, std::string socket, UniqueFd fd)
    : identifier_(std::move(identifier)), socket_(std::move(socket)), fd_(std::move(fd)) {}

Status JournalSink::send(const std::string& entry) {
    if (::send(fd_.get(), entry.data(), entry.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(entry.size()))
        return {};
    return errno_error(errno, "send to the journal at " + socket_);
}

void JournalSink::sink_it_(const spdlog::details::log_msg& msg) {
    const std::string entry =
        journal_entry(std::string_view(msg.payload.data(), msg.payload.size()),
                      journal_priority(msg.level), identifier_, static_cast<long>(msg.thread_id));
    if (send(entry))
        return;
    // journald restarted (its socket is a new one): connect again, once.
    if (auto fd = connect_journal(socket_)) {
        fd_ = std::move(*fd);
        if (send(entry))
            return;
    }
    // Never lose the line: stderr, which systemd also hands to the journal.
    std::fprintf(stderr, "<%d>%.*s\n", journal_priority(msg.level),
                 static_cast<int>(msg.payload.size()), msg.payload.data());
}

} // namespace trueno::service
