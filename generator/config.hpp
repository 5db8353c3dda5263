// trueno-zram.conf: where the files are, what they say, and what the devices come out as.
// Format and precedence follow zram-generator.conf(5) so a copied zram-generator.conf means
// the same; a bad line is reported (file, line, key) and skipped, never fatal.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "trueno/result.hpp"

namespace trueno::generator {

// "zstd(level=3)": an algorithm with its algorithm_params pairs in the order given.
struct AlgorithmEntry {
    std::string name;
    std::vector<std::pair<std::string, std::string>> params;

    // "level=3 dict=/x": the text the kernel's algorithm_params takes (without algo=).
    std::string params_text() const;
};

// compression-algorithm = "primary recomp1 recomp2 (global params)".
struct Compression {
    std::optional<AlgorithmEntry> primary;
    std::vector<AlgorithmEntry> recompression; // priority 1, 2, ... in order
    std::vector<std::pair<std::string, std::string>> global_params; // e.g. type=idle
};

Result<Compression> parse_compression(std::string_view text);

struct DeviceConfig {
    int id = 0;                 // N of [zramN] and /dev/ublkbN
    std::vector<std::string> sources; // config files (as on the real system) that set it up

    std::string size_expression = "min(ram / 2, 4096)";
    double size_mib = 0;
    // A zram-size that could not be evaluated (and no later one replaced): the device is not
    // made, rather than made with a size the user did not write.
    std::optional<std::string> unusable_size;
    std::string resident_limit_expression = "0";
    double resident_limit_mib = 0;
    std::optional<double> host_memory_limit_mib; // none: no limit
    // Obsolete keys still honoured, as zram-generator does: they override zram-size.
    std::optional<double> zram_fraction;
    std::optional<std::optional<double>> max_zram_size_mib;

    Compression compression;
    std::string writeback_device;
    int swap_priority = 100;
    std::optional<std::string> options; // unset: "discard"
    std::string mount_point;
    std::string fs_type;                // empty: swap, or ext2 with a mount point
    std::optional<std::uint64_t> recompress_interval_s;
    std::optional<std::uint64_t> recompress_idle_age_s;
    // The daemon's automatic idle recompression (its recompress_policy attribute): a policy
    // name; the rest left unset takes the daemon's defaults. With a policy, the interval and
    // idle age above are its own and no timer unit is made.
    std::optional<std::string> recompress_policy;
    std::optional<std::uint64_t> recompress_rate;  // pages per second, 0 = no limit
    std::optional<unsigned> recompress_cpu_percent; // 1..100
    // Automatic writeback to writeback-device (the writeback_policy attribute): on when an age
    // is set; the interval and daily budget unset take the daemon's defaults.
    std::optional<std::uint64_t> writeback_age_s;
    std::optional<std::uint64_t> writeback_interval_s;
    std::optional<std::uint64_t> writeback_budget_bytes; // per day, 0 = no limit

    // Worked out after all files are read.
    bool enabled = true;
    std::uint64_t disksize_bytes = 0;
    std::uint64_t mem_limit_bytes = 0;

    std::string device_name() const { return "ublkb" + std::to_string(id); }
    bool is_swap() const { return effective_fs_type() == "swap"; }
    std::string effective_fs_type() const;
    std::string effective_options() const { return options.value_or("discard"); }
    // The recompress_policy attribute text, e.g. "balanced age=3600 interval=600"; none
    // without a policy.
    std::optional<std::string> recompress_policy_value() const;
    // The writeback_policy attribute text, e.g. "on age=86400 budget=1073741824"; none without
    // a writeback-age or a writeback-device.
    std::optional<std::string> writeback_policy_value() const;
};

// The daemon's recompression policy names, for checking the configuration at boot.
bool known_recompress_policy(std::string_view name);
inline constexpr const char* kRecompressPolicyNames = "fast balanced strong strongest";

struct Config {
    std::map<int, DeviceConfig> devices;  // only enabled devices of non-zero size
    std::vector<std::string> messages;    // warnings and notes for the journal
};

// The main file and drop-ins in read order, masked ones left out (paths under root).
std::vector<std::filesystem::path> locate_config_files(const std::filesystem::path& root,
                                                       std::vector<std::string>& messages);

// MemTotal from root/proc/meminfo, in MiB.
Result<double> read_memtotal_mib(const std::filesystem::path& root);

// The last trueno.zram= or systemd.zram= on the command line: nullopt when absent.
std::optional<bool> parse_kernel_cmdline(std::string_view cmdline, std::vector<std::string>& messages);

// Parses "30s", "5min", "1h 30min", "2d", bare seconds. For recompress-interval.
Result<std::uint64_t> parse_timespan_s(std::string_view text);

// Reads everything under root (config files, proc/meminfo, proc/cmdline) and works out the
// devices. ram_mib overrides meminfo when given (tests).
Config load_config(const std::filesystem::path& root);

// The same from already-read text, for tests: (file name as shown, contents) in read order.
Config build_config(const std::vector<std::pair<std::string, std::string>>& files, double ram_mib,
                    std::optional<bool> cmdline);

} // namespace trueno::generator
