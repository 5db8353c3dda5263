// Whether stderr is the journal's stream: what decides that the daemon logs to the journal with
// each line's priority.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "daemon_logging.hpp"
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
