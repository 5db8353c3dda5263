#include "options.hpp"

#include <getopt.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <span>

#include "sizes.hpp"

#ifndef TRUENO_VERSION
#define TRUENO_VERSION "unknown"
#endif

namespace trueno::zramctl {
namespace {

enum LongOnly : int {
    OptRaw = CHAR_MAX + 1,
    OptOutputAll,
    OptStat,
    OptSet,
    OptSocket,
    OptMetrics,
    OptHttp,
};

constexpr std::array<option, 21> kLongOptions{{
    {"algorithm", required_argument, nullptr, 'a'},
    {"bytes", no_argument, nullptr, 'b'},
    {"find", no_argument, nullptr, 'f'},
    {"help", no_argument, nullptr, 'h'},
    {"json", no_argument, nullptr, 'J'},
    {"output", required_argument, nullptr, 'o'},
    {"output-all", no_argument, nullptr, OptOutputAll},
    {"algorithm-params", required_argument, nullptr, 'p'},
    {"noheadings", no_argument, nullptr, 'n'},
    {"reset", no_argument, nullptr, 'r'},
    {"raw", no_argument, nullptr, OptRaw},
    {"size", required_argument, nullptr, 's'},
    {"streams", required_argument, nullptr, 't'},
    {"version", no_argument, nullptr, 'V'},
    {"stat", no_argument, nullptr, OptStat},
    {"set", required_argument, nullptr, OptSet},
    {"socket", required_argument, nullptr, OptSocket},
    {"metrics", no_argument, nullptr, OptMetrics},
    {"http", no_argument, nullptr, OptHttp},
    {nullptr, 0, nullptr, 0},
    {nullptr, 0, nullptr, 0},
}};

// Leading ':' makes getopt report a missing argument as ':' and print nothing itself.
constexpr const char* kShortOptions = ":a:bfhJo:p:nrs:t:V";

// Options that exclude each other, group by group; zramctl's two groups come first so their
// messages are zramctl's. Each group remembers the first member seen.
constexpr std::array<std::array<int, 5>, 5> kExclusive{{
    {'f', 'o', 'r', 0, 0},
    {'o', 'r', 's', 0, 0},
    {'f', OptStat, OptSet, 0, 0},
    {'o', 'r', 's', OptStat, OptSet},
    {'J', OptRaw, 0, 0, 0},
}};

// --metrics prints its own format of every device: none of these mean anything with it.
constexpr std::array<int, 11> kNotWithMetrics{'f', 'o', 'r', 's', OptStat, OptSet, 'J', OptRaw, 'n', 'b', OptOutputAll};

std::string long_name_of(int val)
{
    for (const auto& o : kLongOptions)
        if (o.name && o.val == val)
            return std::string("--") + o.name;
    return std::string("-") + static_cast<char>(val);
}

UsageError usage_error(std::string message) { return UsageError{std::move(message), true}; }
UsageError plain_error(std::string message) { return UsageError{std::move(message), false}; }

// Message for a getopt failure, in glibc's words.
std::string getopt_failure(int result, int bad_option, const std::string& arg)
{
    const bool is_long = arg.rfind("--", 0) == 0;
    if (result == ':') {
        if (is_long)
            return "option '" + arg.substr(0, arg.find('=')) + "' requires an argument";
        return std::string("option requires an argument -- '") + static_cast<char>(bad_option) + "'";
    }
    if (is_long) {
        const std::string name = arg.substr(2, arg.find('=') == std::string::npos ? std::string::npos : arg.find('=') - 2);
        if (bad_option != 0)
            return "option '--" + name + "' doesn't allow an argument";
        int matches = 0;
        for (const auto& o : kLongOptions)
            if (o.name && std::strncmp(o.name, name.c_str(), name.size()) == 0)
                ++matches;
        if (matches > 1)
            return "option '--" + name + "' is ambiguous";
        return "unrecognized option '" + arg + "'";
    }
    return std::string("invalid option -- '") + static_cast<char>(bad_option) + "'";
}

// "failed to parse size: '1X': Invalid argument", as util-linux's strtosize_or_err says.
std::string parse_failure(const char* what, const std::string& text, int code)
{
    std::string msg = std::string("failed to parse ") + what + ": '" + text + "'";
    if (code == ERANGE || std::string_view(what) == "size")
        msg += std::string(": ") + std::strerror(code);
    return msg;
}

} // namespace

ParseOutcome parse_options(const std::vector<std::string>& argv, const std::optional<std::string>& socket_from_env)
{
    ParseOutcome outcome;
    Options opt;
    if (socket_from_env && !socket_from_env->empty())
        opt.socket_path = *socket_from_env;

    // getopt permutes argv, so it works on a private copy.
    std::vector<std::string> storage = argv;
    if (storage.empty())
        storage.emplace_back(kProgramName);
    std::vector<char*> args;
    for (auto& s : storage)
        args.push_back(s.data());
    args.push_back(nullptr);
    const int argc = static_cast<int>(storage.size());

    std::optional<std::string> output_list;
    std::vector<ColumnId> columns;
    std::array<int, kExclusive.size()> exclusive_seen{};
    int not_with_metrics = 0; // the first option of kNotWithMetrics given
    bool metrics = false;

    // getopt keeps its position in libc globals: start afresh for every parse.
    optind = 0;
    opterr = 0;
    for (;;) {
        const int before = optind;
        const int c = getopt_long(argc, args.data(), kShortOptions, kLongOptions.data(), nullptr);
        if (c == -1)
            break;
        if (c == '?' || c == ':') {
            // The word getopt stopped at: it has stepped past it unless a short option failed
            // in the middle of a cluster such as "-qb". args[] is getopt's (permuted) view.
            const int at = optind > before ? optind - 1 : before;
            const std::string word = at >= 0 && at < argc ? args[static_cast<std::size_t>(at)] : "";
            outcome.error = usage_error(getopt_failure(c, optopt, word));
            return outcome;
        }

        for (std::size_t g = 0; g < kExclusive.size(); ++g) {
            const auto& group = kExclusive[g];
            if (std::find(group.begin(), group.end(), c) == group.end())
                continue;
            if (exclusive_seen[g] == 0)
                exclusive_seen[g] = c;
            else if (exclusive_seen[g] != c) {
                std::string msg = "mutually exclusive arguments:";
                for (int member : group)
                    if (member)
                        msg += " " + long_name_of(member);
                outcome.error = usage_error(msg);
                return outcome;
            }
        }

        if (!not_with_metrics && std::find(kNotWithMetrics.begin(), kNotWithMetrics.end(), c) != kNotWithMetrics.end())
            not_with_metrics = c;

        const std::string arg = optarg ? optarg : "";
        switch (c) {
        case 'a':
            opt.algorithm = arg;
            break;
        case 'b':
            opt.in_bytes = true;
            break;
        case 'f':
            opt.find = true;
            break;
        case 'J':
            opt.format = OutputFormat::Json;
            break;
        case 'o':
            output_list = arg;
            break;
        case OptOutputAll:
            columns = output_all_columns();
            break;
        case 'p':
            opt.algorithm_params = arg;
            break;
        case 'n':
            opt.headings = false;
            break;
        case 'r':
            opt.action = Action::Reset;
            break;
        case OptRaw:
            opt.format = OutputFormat::Raw;
            break;
        case 's': {
            auto size = parse_size(arg);
            if (!size) {
                outcome.error = plain_error(parse_failure("size", arg, size.error().code));
                return outcome;
            }
            if (*size > static_cast<std::uint64_t>(INT64_MAX)) {
                outcome.error = plain_error(parse_failure("size", arg, ERANGE));
                return outcome;
            }
            opt.size = *size;
            opt.action = Action::Create;
            break;
        }
        case 't': {
            auto streams = parse_unsigned(arg);
            if (!streams || *streams > UINT32_MAX) {
                outcome.error = plain_error(parse_failure("streams", arg, streams ? ERANGE : streams.error().code));
                return outcome;
            }
            opt.streams = *streams;
            break;
        }
        case OptStat:
            opt.action = Action::Stat;
            break;
        case OptSet: {
            const auto eq = arg.find('=');
            if (eq == std::string::npos || eq == 0) {
                outcome.error = usage_error("--set expects ATTRIBUTE=VALUE, got '" + arg + "'");
                return outcome;
            }
            opt.set_attribute = arg.substr(0, eq);
            opt.set_value = arg.substr(eq + 1);
            opt.action = Action::Set;
            break;
        }
        case OptSocket:
            if (arg.empty()) {
                outcome.error = usage_error("--socket needs a path");
                return outcome;
            }
            opt.socket_path = arg;
            break;
        case OptMetrics:
            metrics = true;
            break;
        case OptHttp:
            opt.http = true;
            break;
        case 'V':
            opt.action = Action::Version;
            outcome.options = std::move(opt);
            return outcome;
        case 'h':
            opt.action = Action::Help;
            outcome.options = std::move(opt);
            return outcome;
        default:
            outcome.error = usage_error("unexpected option");
            return outcome;
        }
    }
    for (int i = optind; i < argc; ++i)
        opt.devices.emplace_back(args[static_cast<std::size_t>(i)]);

    // zramctl's rules, in zramctl's order.
    if (opt.find && !opt.devices.empty()) {
        outcome.error = usage_error("option --find is mutually exclusive with <device>");
        return outcome;
    }
    if (opt.action == Action::Status && opt.find)
        opt.action = Action::FindOnly;
    if (opt.action != Action::Reset && opt.devices.size() > 1) {
        outcome.error = usage_error("only one <device> at a time is allowed");
        return outcome;
    }
    if (metrics && not_with_metrics) {
        outcome.error = usage_error("option --metrics cannot be combined with " + long_name_of(not_with_metrics));
        return outcome;
    }
    if (metrics)
        opt.action = Action::Metrics;
    if (opt.http && opt.action != Action::Metrics) {
        outcome.error = usage_error("option --http must be combined with --metrics");
        return outcome;
    }
    if (opt.action != Action::Create && (opt.algorithm || opt.algorithm_params || opt.streams)) {
        outcome.error = usage_error("options --algorithm, --algorithm-params, and --streams must be combined with --size");
        return outcome;
    }
    const bool needs_device = opt.action == Action::Reset || opt.action == Action::Stat || opt.action == Action::Set ||
                              (opt.action == Action::Create && !opt.find);
    if (needs_device && opt.devices.empty()) {
        outcome.error = usage_error("no device specified");
        return outcome;
    }

    if (opt.action == Action::Status) {
        if (columns.empty())
            columns = default_columns();
        if (output_list) {
            auto applied = apply_column_list(*output_list, columns);
            if (!applied) {
                outcome.error = usage_error(applied.error().message);
                return outcome;
            }
            columns = std::move(*applied);
        }
    }
    opt.columns = std::move(columns);
    outcome.options = std::move(opt);
    return outcome;
}

std::string usage_text()
{
    std::string t;
    t += "\nUsage:\n";
    t += " trueno-zramctl [options] <device>\n";
    t += " trueno-zramctl -r <device> [...]\n";
    t += " trueno-zramctl [options] -f | <device> -s <size>\n";
    t += " trueno-zramctl --stat <device>\n";
    t += " trueno-zramctl --set <attribute>=<value> <device>\n";
    t += " trueno-zramctl --metrics [--http] [<device>]\n";
    t += "\nSet up and control trueno-zram compressed RAM devices (/dev/ublkbN).\n";
    t += "\nOptions:\n";
    t += " -a, --algorithm <alg>     compression algorithm to use\n";
    t += " -b, --bytes               print sizes in bytes rather than in human readable format\n";
    t += " -f, --find                find a free device\n";
    t += " -J, --json                use JSON output format\n";
    t += " -n, --noheadings          don't print headings\n";
    t += " -o, --output <list>       columns to use for status output\n";
    t += "     --output-all          output all columns\n";
    t += " -p, --algorithm-params <parameter>...\n";
    t += "                           parameters for the compression algorithm\n";
    t += "     --raw                 use raw status output format\n";
    t += " -r, --reset               reset all specified devices\n";
    t += " -s, --size <size>         device size\n";
    t += " -t, --streams <number>    number of compression streams\n";
    t += "     --stat                print every attribute of <device>\n";
    t += "     --set <attr>=<value>  write one attribute of <device>, e.g.\n";
    t += "                           \"recomp_algorithm=algo=zstd\", \"recompress=type=idle\",\n";
    t += "                           \"recompress_policy=balanced age=3600 cpu=10\" or\n";
    t += "                           recompress_policy=off (see trueno-zramd(8))\n";
    t += "     --metrics             print every device's statistics as OpenMetrics text\n";
    t += "     --http                with --metrics: answer one HTTP request read on stdin\n";
    t += "                           (trueno-zram-metrics.socket)\n";
    t += "     --socket <path>       trueno-zramd control socket\n";
    t += "                           (default $" + std::string(kSocketEnvironment) + " or " + kDefaultSocket + ")\n";
    t += "\n -h, --help                display this help\n";
    t += " -V, --version             display version\n";
    t += "\nArguments:\n";
    t += " <size> arguments may be followed by the suffixes for\n";
    t += "   GiB, TiB, PiB, EiB, ZiB, and YiB (the \"iB\" is optional)\n";
    t += " <alg> specify algorithm, supported are:\n";
    t += "   lzo-rle, lzo, lz4, lz4hc, zstd, deflate, adaptive (as built into trueno-zramd)\n";
    t += "\nAvailable output columns:\n";
    for (const auto& c : all_columns()) {
        char line[160];
        std::snprintf(line, sizeof line, " %11s  %s\n", std::string(c.name).c_str(), std::string(c.help).c_str());
        t += line;
    }
    t += "\nFor more details see trueno-zramctl(8).\n";
    return t;
}

std::string version_text() { return std::string(kProgramName) + " from trueno-zram " TRUENO_VERSION "\n"; }

} // namespace trueno::zramctl
