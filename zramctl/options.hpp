// Command-line parsing with zramctl's options, conflict rules and messages, plus trueno's own
// (--json, --stat, --set, --socket).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "columns.hpp"
#include "table.hpp"

namespace trueno::zramctl {

inline constexpr const char* kProgramName = "trueno-zramctl";
inline constexpr const char* kDefaultSocket = "/run/trueno-zram/io.trueno.zram";
inline constexpr const char* kSocketEnvironment = "TRUENO_ZRAM_SOCKET";

enum class Action {
    Status,   // list devices (or one)
    FindOnly, // print the first free device name
    Create,   // --size: set up a device (--find: a new one)
    Reset,    // --reset DEV...
    Stat,     // --stat DEV: every attribute
    Set,      // --set DEV attr=value
    Metrics,  // --metrics [DEV]: OpenMetrics text (--http: as the answer to one HTTP request)
    Help,
    Version,
};

struct Options {
    Action action = Action::Status;
    bool find = false;
    std::vector<std::string> devices;

    // Status output.
    std::vector<ColumnId> columns;  // resolved (defaults, --output-all, --output)
    OutputFormat format = OutputFormat::Table;
    bool headings = true;
    bool in_bytes = false;

    // Set-up.
    std::uint64_t size = 0;
    std::optional<std::string> algorithm;
    std::optional<std::string> algorithm_params;
    std::uint64_t streams = 0;

    // --set ATTR=VALUE.
    std::string set_attribute;
    std::string set_value;

    std::string socket_path = kDefaultSocket;

    // --metrics --http: read one HTTP request on stdin, answer on stdout.
    bool http = false;
};

// A usage error: the one-line message (without the program name); the caller prints it, then
// "Try 'trueno-zramctl --help' for more information." and exits 1.
struct UsageError {
    std::string message;
    bool try_help = true;
};

struct ParseOutcome {
    std::optional<Options> options; // set on success
    UsageError error;
};

// argv as given to main (argv[0] included). socket_from_env is TRUENO_ZRAM_SOCKET's value if set.
ParseOutcome parse_options(const std::vector<std::string>& argv, const std::optional<std::string>& socket_from_env);

// The --help text.
std::string usage_text();
// The --version line.
std::string version_text();

} // namespace trueno::zramctl
