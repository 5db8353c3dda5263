// Whether stderr is the journal's stream: what decides that the daemon logs to the journal with
// each line's priority; and the entries its journal sink sends.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <spdlog/logger.h>

#include "../service_manager/datagram_listener.hpp"
#include "../varlink/temp_dir.hpp"
#include "daemon_logging.hpp"
#include "journal_sink.hpp"
#include "trueno/unique_fd.hpp"

using trueno::UniqueFd;
using trueno::service::is_journal_stream;

namespace {

struct Pipe {
    UniqueFd read_end;
    UniqueFd write_end;
    Pipe() {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        read_end.reset(fds[0]);
        write_end.reset(fds[1]);
    }
};

// JOURNAL_STREAM as systemd writes it for fd.
std::string journal_stream_of(int fd) {
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

} // namespace

TEST_CASE("stderr is the journal's stream only when JOURNAL_STREAM names that very stream") {
    Pipe journal;
    Pipe other;
    const auto named = journal_stream_of(journal.write_end.get());
    CHECK(is_journal_stream(journal.write_end.get(), named.c_str()));
    // A process whose stderr was redirected keeps the variable: no match.
    CHECK_FALSE(is_journal_stream(other.write_end.get(), named.c_str()));
    CHECK_FALSE(is_journal_stream(journal.write_end.get(), nullptr));
    CHECK_FALSE(is_journal_stream(journal.write_end.get(), ""));
    CHECK_FALSE(is_journal_stream(journal.write_end.get(), "journal"));
    CHECK_FALSE(is_journal_stream(journal.write_end.get(), (named + "x").c_str()));
    CHECK_FALSE(
        is_journal_stream(journal.write_end.get(), named.substr(0, named.find(':')).c_str()));
    CHECK_FALSE(is_journal_stream(-1, named.c_str()));
}

// The journal's native protocol, as the daemon's journal sink writes it.
namespace {

// The fields of one native-protocol entry (KEY=VALUE lines, or KEY, a newline, a 64-bit
// little-endian length, the value and a newline), in order.
std::vector<std::pair<std::string, std::string>> parse_entry(const std::string& entry) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t at = 0;
    while (at < entry.size()) {
        const std::size_t end = entry.find('\n', at);
        REQUIRE(end != std::string::npos);
        const std::string line = entry.substr(at, end - at);
        if (const auto eq = line.find('='); eq != std::string::npos) {
            fields.emplace_back(line.substr(0, eq), line.substr(eq + 1));
            at = end + 1;
            continue;
        }
        REQUIRE(end + 9 <= entry.size());
        std::uint64_t size = 0;
        for (int byte = 7; byte >= 0; --byte)
            size = size << 8 | static_cast<unsigned char>(entry[end + 1 + byte]);
        REQUIRE(end + 9 + size + 1 <= entry.size());
        fields.emplace_back(line, entry.substr(end + 9, size));
        CHECK(entry[end + 9 + size] == '\n');
        at = end + 9 + size + 1;
    }
    return fields;
}

std::string field(const std::vector<std::pair<std::string, std::string>>& fields, const std::string& key) {
    for (const auto& [k, v] : fields)
        if (k == key) return v;
    return "(missing)";
}

} // namespace

TEST_CASE("a journal entry carries the line's priority, the identifier and the thread") {
    const auto fields = parse_entry(trueno::service::journal_entry("device 0: ready", 6, "trueno-zramd", 77));
    CHECK(field(fields, "PRIORITY") == "6");
    CHECK(field(fields, "SYSLOG_IDENTIFIER") == "trueno-zramd");
    CHECK(field(fields, "TID") == "77");
    CHECK(field(fields, "MESSAGE") == "device 0: ready");

    // A message with newlines is one entry, in the binary form.
    const std::string lines = "first line\nsecond line\n\nfourth, = in it";
    const std::string entry = trueno::service::journal_entry(lines, 3, "trueno-zramd", 1);
    CHECK(entry.find("MESSAGE\n") != std::string::npos);
    CHECK(field(parse_entry(entry), "MESSAGE") == lines);

    using spdlog::level::level_enum;
    CHECK(trueno::service::journal_priority(level_enum::critical) == 2);
    CHECK(trueno::service::journal_priority(level_enum::err) == 3);
    CHECK(trueno::service::journal_priority(level_enum::warn) == 4);
    CHECK(trueno::service::journal_priority(level_enum::info) == 6);
    CHECK(trueno::service::journal_priority(level_enum::debug) == 7);
    CHECK(trueno::service::journal_priority(level_enum::trace) == 7);
}

TEST_CASE("the journal sink sends each line to the journal's socket, and finds a restarted journal") {
    trueno::testing::TempDir dir;
    const std::string path = dir / "journal";
    auto journal = std::make_unique<trueno::testing::DatagramListener>(path);
    auto sink = trueno::service::JournalSink::open("trueno-zramd-test", path);
    REQUIRE(sink);
    spdlog::logger logger("journal-test", *sink);
    logger.set_level(spdlog::level::trace);

    logger.error("write error on /dev/ublkb{}", 0);
    auto fields = parse_entry(journal->receive());
    CHECK(field(fields, "PRIORITY") == "3");
    CHECK(field(fields, "SYSLOG_IDENTIFIER") == "trueno-zramd-test");
    CHECK(field(fields, "MESSAGE") == "write error on /dev/ublkb0");

    logger.info("two\nlines");
    fields = parse_entry(journal->receive());
    CHECK(field(fields, "PRIORITY") == "6");
    CHECK(field(fields, "MESSAGE") == "two\nlines");

    // journald restarted: its socket is a new one at the same path.
    journal.reset();
    REQUIRE(::unlink(path.c_str()) == 0);
    journal = std::make_unique<trueno::testing::DatagramListener>(path);
    logger.warn("after the restart");
    fields = parse_entry(journal->receive());
    CHECK(field(fields, "PRIORITY") == "4");
    CHECK(field(fields, "MESSAGE") == "after the restart");
}

TEST_CASE("no journal socket: the sink is not made, and says why") {
    trueno::testing::TempDir dir;
    auto sink = trueno::service::JournalSink::open("trueno-zramd", dir / "none");
    REQUIRE_FALSE(sink);
    CHECK(sink.error().code == ENOENT);
    CHECK(sink.error().message.find(dir / "none") != std::string::npos);
}
