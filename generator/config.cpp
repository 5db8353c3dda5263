#include "config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "expression.hpp"
#include "text_file.hpp"

namespace fs = std::filesystem;

namespace trueno::generator {
namespace {

constexpr const char* kMainName = "trueno-zram.conf";
constexpr const char* kDropinDir = "trueno-zram.conf.d";
// Highest precedence first, as zram-generator and systemd.unit(5) order them.
constexpr const char* kConfigDirs[] = {"run", "etc", "usr/local/lib", "usr/lib"};

std::string trim(std::string_view s)
{
    std::size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
}

std::string describe_error(const std::error_code& ec) { return ec.message(); }

// How a file under root is named to the user: as it would be on the real system.
std::string shown_path(const fs::path& root, const fs::path& path)
{
    auto rel = path.lexically_relative(root);
    if (rel.empty() || rel.native().starts_with("..")) return path.string();
    return "/" + rel.string();
}

// An empty file or a symlink to /dev/null masks: the file counts as present but says nothing.
bool is_mask(const fs::path& path)
{
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(path, ec)) && fs::read_symlink(path, ec) == "/dev/null")
        return true;
    auto st = fs::status(path, ec);
    return !ec && fs::is_regular_file(st) && fs::file_size(path, ec) == 0 && !ec;
}

bool parse_bool(std::string_view v, bool& out)
{
    std::string s(v);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s == "1" || s == "yes" || s == "true" || s == "on" || s == "y" || s == "t") out = true;
    else if (s == "0" || s == "no" || s == "false" || s == "off" || s == "n" || s == "f") out = false;
    else return false;
    return true;
}

bool valid_name(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '-' || c == '_' || c == '.';
    });
}

// "level=3,dict=/x" or "level=3 dict=/x".
Result<std::vector<std::pair<std::string, std::string>>> parse_params(std::string_view text)
{
    std::vector<std::pair<std::string, std::string>> out;
    std::string word;
    std::string s(text);
    std::replace(s.begin(), s.end(), ',', ' ');
    std::istringstream in(s);
    while (in >> word) {
        auto eq = word.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == word.size())
            return make_error(EINVAL, "parameter '" + word + "' is not key=value");
        out.emplace_back(word.substr(0, eq), word.substr(eq + 1));
    }
    return out;
}

Result<std::optional<double>> parse_optional_mib(std::string_view value, const Variables& vars)
{
    if (trim(value) == "none") return std::optional<double>{};
    auto v = evaluate(value, vars);
    if (!v) return v.error();
    if (*v < 0) return make_error(EINVAL, "must not be negative");
    return std::optional<double>{*v};
}

std::string format_mib(double mib)
{
    std::ostringstream out;
    out << mib;
    return out.str();
}

class ConfigBuilder {
public:
    ConfigBuilder(double ram_mib) : vars_{{"ram", ram_mib}}, ram_mib_(ram_mib) {}

    void read_file(const std::string& shown, const std::string& text)
    {
        std::istringstream in(text);
        std::string raw;
        int line_no = 0;
        DeviceConfig* dev = nullptr;
        std::string section;
        bool warned_outside = false;
        while (std::getline(in, raw)) {
            ++line_no;
            std::string line = trim(raw);
            if (line.empty() || line[0] == '#' || line[0] == ';') continue;
            std::string where = shown + ":" + std::to_string(line_no) + ": ";
            if (line.front() == '[') {
                if (line.back() != ']') {
                    warn(where + "malformed section header '" + line + "', ignoring this section");
                    dev = nullptr;
                    section = "";
                    continue;
                }
                section = trim(std::string_view(line).substr(1, line.size() - 2));
                dev = device_for(section);
                if (!dev) warn(where + "unknown section [" + section + "] (expected [zramN]), ignoring it");
                else if (dev->sources.empty() || dev->sources.back() != shown) dev->sources.push_back(shown);
                continue;
            }
            auto eq = line.find('=');
            if (eq == std::string::npos) {
                warn(where + "line is not key = value, ignoring it");
                continue;
            }
            std::string key = trim(std::string_view(line).substr(0, eq));
            std::string value = trim(std::string_view(line).substr(eq + 1));
            if (section.empty()) {
                if (!warned_outside) warn(where + "key '" + key + "' outside of any [zramN] section, ignoring it");
                warned_outside = true;
                continue;
            }
            if (!dev) continue; // already warned about the section
            apply(*dev, key, value, where + "[" + section + "] " + key + ": ");
        }
    }

    void apply_cmdline(std::optional<bool> enabled)
    {
        if (!enabled) return;
        if (!*enabled) {
            if (!devices_.empty()) note("kernel command line disables trueno-zram: no devices");
            devices_.clear();
            disabled_ = true;
            return;
        }
        if (!devices_.contains(0)) device(0).sources.push_back("kernel command line");
    }

    Config finish()
    {
        Config config;
        for (auto& [id, dev] : devices_) {
            std::string name = "[zram" + std::to_string(id) + "] (/dev/" + dev.device_name() + ")";
            if (dev.unusable_size) {
                warn(name + ": zram-size '" + *dev.unusable_size + "' is not a usable size: not creating it");
                continue;
            }
            if (dev.zram_fraction || dev.max_zram_size_mib) {
                double size = dev.zram_fraction.value_or(0.5) * ram_mib_;
                auto max = dev.max_zram_size_mib.value_or(std::optional<double>{4096});
                if (max) size = std::min(size, *max);
                dev.size_mib = size;
            }
            if (dev.host_memory_limit_mib && ram_mib_ > *dev.host_memory_limit_mib) {
                note(name + ": the machine has " + format_mib(ram_mib_) + " MiB of RAM, more than host-memory-limit " +
                     format_mib(*dev.host_memory_limit_mib) + " MiB: not creating it");
                continue;
            }
            // Beyond 2^63 bytes the conversion to an integer would be undefined; no machine has it.
            constexpr double kMaxMib = 8.0 * 1024 * 1024 * 1024 * 1024; // 8 EiB
            if (dev.size_mib > kMaxMib || dev.resident_limit_mib > kMaxMib) {
                warn(name + ": size " + format_mib(std::max(dev.size_mib, dev.resident_limit_mib)) +
                     " MiB is beyond any machine: not creating it");
                continue;
            }
            dev.disksize_bytes = static_cast<std::uint64_t>(std::max(0.0, dev.size_mib) * 1024.0 * 1024.0);
            dev.mem_limit_bytes = static_cast<std::uint64_t>(std::max(0.0, dev.resident_limit_mib) * 1024.0 * 1024.0);
            if (dev.disksize_bytes < 4096) {
                note(name + ": size works out to " + std::to_string(dev.disksize_bytes) + " bytes: not creating it");
                continue;
            }
            if (dev.recompress_interval_s && !dev.recompress_policy && dev.compression.recompression.empty()) {
                warn(name + ": recompress-interval is set but compression-algorithm names no recompression "
                            "algorithm: no periodic recompression");
                dev.recompress_interval_s.reset();
            }
            if ((dev.writeback_age_s || dev.writeback_interval_s || dev.writeback_budget_bytes) &&
                dev.writeback_device.empty()) {
                warn(name + ": writeback-age, writeback-interval or writeback-budget is set but "
                            "writeback-device is "
                            "not: no automatic writeback");
            }
            config.devices.emplace(id, std::move(dev));
        }
        config.messages = std::move(messages_);
        return config;
    }

    void warn(std::string m) { messages_.push_back(std::move(m)); }
    void note(std::string m) { messages_.push_back(std::move(m)); }

private:
    Variables vars_;
    double ram_mib_;
    std::map<int, DeviceConfig> devices_;
    std::vector<std::string> messages_;
    bool disabled_ = false;

    // A device with its defaults worked out for this machine.
    DeviceConfig& device(int id)
    {
        auto [it, fresh] = devices_.try_emplace(id);
        if (fresh) {
            it->second.id = id;
            it->second.size_mib = evaluate(it->second.size_expression, vars_).value();
            it->second.resident_limit_mib = evaluate(it->second.resident_limit_expression, vars_).value();
        }
        return it->second;
    }

    DeviceConfig* device_for(const std::string& section)
    {
        std::string_view digits;
        if (section.starts_with("zram")) digits = std::string_view(section).substr(4);
        else if (section.starts_with("ublkb")) digits = std::string_view(section).substr(5);
        else return nullptr;
        int id = -1;
        auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
        if (digits.empty() || ec != std::errc{} || p != digits.data() + digits.size() || id < 0 || id > 1048575)
            return nullptr;
        return &device(id);
    }

    void apply(DeviceConfig& dev, const std::string& key, const std::string& value, const std::string& where)
    {
        auto bad = [&](const std::string& why, const std::string& keeping) {
            warn(where + "bad value '" + value + "': " + why + "; keeping " + keeping);
        };
        if (key == "zram-size" || key == "zram-resident-limit") {
            bool size = key == "zram-size";
            auto v = evaluate(value, vars_);
            std::string& expr = size ? dev.size_expression : dev.resident_limit_expression;
            std::string why = !v ? v.error().message : *v < 0 ? "must not be negative" : "";
            if (!why.empty() && size) {
                // Not the earlier or the default size: the user asked for this one.
                warn(where + "bad value '" + value + "': " + why);
                dev.unusable_size = value;
                return;
            }
            if (!why.empty()) return bad(why, expr);
            expr = value;
            (size ? dev.size_mib : dev.resident_limit_mib) = *v;
            if (size) { // zram-size set later overrides the obsolete keys read earlier
                dev.unusable_size.reset();
                dev.zram_fraction.reset();
                dev.max_zram_size_mib.reset();
            }
        } else if (key == "host-memory-limit" || key == "memory-limit") {
            auto v = parse_optional_mib(value, vars_);
            if (!v) return bad(v.error().message, dev.host_memory_limit_mib ? format_mib(*dev.host_memory_limit_mib) : "none");
            dev.host_memory_limit_mib = *v;
        } else if (key == "zram-fraction") {
            auto v = evaluate(value, {});
            if (!v || *v < 0) return bad(v ? "must not be negative" : v.error().message, "the previous value");
            dev.zram_fraction = *v;
        } else if (key == "max-zram-size") {
            auto v = parse_optional_mib(value, {});
            if (!v) return bad(v.error().message, "the previous value");
            dev.max_zram_size_mib = *v;
        } else if (key == "compression-algorithm") {
            auto c = parse_compression(value);
            if (!c) return bad(c.error().message, dev.compression.primary ? dev.compression.primary->name : "the daemon's default");
            dev.compression = std::move(*c);
        } else if (key == "writeback-device") {
            if (!value.empty() && value[0] != '/') return bad("must be an absolute path", "'" + dev.writeback_device + "'");
            dev.writeback_device = value;
        } else if (key == "swap-priority") {
            int prio = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), prio);
            if (value.empty() || ec != std::errc{} || p != value.data() + value.size() || prio < -1 || prio > 32767)
                return bad("must be an integer from -1 to 32767", std::to_string(dev.swap_priority));
            dev.swap_priority = prio;
        } else if (key == "options") {
            dev.options = value;
        } else if (key == "mount-point") {
            if (!value.empty() && value[0] != '/') return bad("must be an absolute path", "'" + dev.mount_point + "'");
            fs::path p(value);
            for (const auto& part : p)
                if (part == "." || part == "..") return bad("must not contain . or .. components", "'" + dev.mount_point + "'");
            if (value.find('\n') != std::string::npos) return bad("must be one line", "'" + dev.mount_point + "'");
            // systemd wants Where= normalized: "//var//tmp/" is "/var/tmp".
            std::string normal;
            for (const auto& part : p)
                if (part != "/" && !part.empty()) normal += "/" + part.string();
            dev.mount_point = normal.empty() ? "/" : normal;
        } else if (key == "fs-type") {
            if (!value.empty() && !valid_name(value)) return bad("not a file system type name", "'" + dev.fs_type + "'");
            dev.fs_type = value;
        } else if (key == "recompress-interval" || key == "recompress-idle-age") {
            bool interval = key == "recompress-interval";
            auto& slot = interval ? dev.recompress_interval_s : dev.recompress_idle_age_s;
            if (value.empty() || value == "none") {
                slot.reset();
                return;
            }
            auto v = parse_timespan_s(value);
            if (!v) return bad(v.error().message, slot ? std::to_string(*slot) + "s" : "none");
            if (*v == 0) return bad("must be at least 1s", slot ? std::to_string(*slot) + "s" : "none");
            slot = *v;
        } else if (key == "recompress-policy") {
            if (value.empty() || value == "off") {
                dev.recompress_policy.reset();
                return;
            }
            if (!known_recompress_policy(value))
                return bad(std::string("not a recompression policy (off ") + kRecompressPolicyNames + ")",
                           dev.recompress_policy.value_or("off"));
            dev.recompress_policy = value;
        } else if (key == "writeback-age" || key == "writeback-interval") {
            auto& slot = key == "writeback-age" ? dev.writeback_age_s : dev.writeback_interval_s;
            if (value.empty() || value == "none") {
                slot.reset();
                return;
            }
            auto v = parse_timespan_s(value);
            if (!v)
                return bad(v.error().message, slot ? std::to_string(*slot) + "s" : "none");
            if (key == "writeback-interval" && *v == 0)
                return bad("must be at least 1s",
                           slot ? std::to_string(*slot) + "s" : "the daemon's default");
            slot = *v;
        } else if (key == "writeback-budget") {
            // Bytes a day, with an optional K, M, G or T (powers of 1024); 0: no limit.
            std::string_view v = value;
            std::uint64_t scale = 1;
            if (!v.empty()) {
                switch (v.back()) {
                case 'K':
                case 'k':
                    scale = 1ull << 10;
                    break;
                case 'M':
                case 'm':
                    scale = 1ull << 20;
                    break;
                case 'G':
                case 'g':
                    scale = 1ull << 30;
                    break;
                case 'T':
                case 't':
                    scale = 1ull << 40;
                    break;
                default:
                    break;
                }
                if (scale != 1)
                    v.remove_suffix(1);
            }
            std::uint64_t n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (v.empty() || ec != std::errc{} || p != v.data() + v.size() ||
                n > UINT64_MAX / scale)
                return bad("must be a size a day, in bytes or with K, M, G, T (0: no limit)",
                           dev.writeback_budget_bytes ? std::to_string(*dev.writeback_budget_bytes)
                                                      : "the daemon's default");
            dev.writeback_budget_bytes = n * scale;
        } else if (key == "recompress-rate") {
            std::uint64_t rate = 0;
            auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), rate);
            if (value.empty() || ec != std::errc{} || p != value.data() + value.size())
                return bad("must be a number of pages per second (0: no limit)",
                           dev.recompress_rate ? std::to_string(*dev.recompress_rate) : "the daemon's default");
            dev.recompress_rate = rate;
        } else if (key == "recompress-cpu") {
            std::string_view v = value;
            if (v.ends_with('%')) v.remove_suffix(1);
            unsigned cpu = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), cpu);
            if (v.empty() || ec != std::errc{} || p != v.data() + v.size() || cpu < 1 || cpu > 100)
                return bad("must be a percentage of one core, 1 to 100",
                           dev.recompress_cpu_percent ? std::to_string(*dev.recompress_cpu_percent) : "the daemon's default");
            dev.recompress_cpu_percent = cpu;
        } else {
            warn(where + "unknown key, ignoring it");
        }
    }
};

} // namespace

std::string AlgorithmEntry::params_text() const
{
    std::string out;
    for (const auto& [k, v] : params) out += (out.empty() ? "" : " ") + k + "=" + v;
    return out;
}

bool known_recompress_policy(std::string_view name)
{
    for (std::string_view known : {"fast", "balanced", "strong", "strongest"})
        if (name == known) return true;
    return false;
}

std::optional<std::string> DeviceConfig::recompress_policy_value() const
{
    if (!recompress_policy) return std::nullopt;
    std::string out = *recompress_policy;
    if (recompress_idle_age_s) out += " age=" + std::to_string(*recompress_idle_age_s);
    if (recompress_interval_s) out += " interval=" + std::to_string(*recompress_interval_s);
    if (recompress_rate) out += " rate=" + std::to_string(*recompress_rate);
    if (recompress_cpu_percent) out += " cpu=" + std::to_string(*recompress_cpu_percent);
    return out;
}

std::optional<std::string> DeviceConfig::writeback_policy_value() const {
    if (!writeback_age_s || writeback_device.empty())
        return std::nullopt;
    std::string out = "on age=" + std::to_string(*writeback_age_s);
    if (writeback_interval_s)
        out += " interval=" + std::to_string(*writeback_interval_s);
    if (writeback_budget_bytes)
        out += " budget=" + std::to_string(*writeback_budget_bytes);
    return out;
}

std::string DeviceConfig::effective_fs_type() const
{
    if (!fs_type.empty()) return fs_type;
    return mount_point.empty() ? "swap" : "ext2";
}

Result<Compression> parse_compression(std::string_view text)
{
    // Split on blanks outside parentheses: "zstd(level=3) lz4hc(level=9) (type=idle)".
    std::vector<std::string> entries;
    std::string cur;
    int depth = 0;
    for (char c : text) {
        if (c == '(') ++depth;
        if (c == ')' && --depth < 0) return make_error(EINVAL, "')' without '('");
        if (depth == 0 && std::isspace(static_cast<unsigned char>(c))) {
            if (!cur.empty()) entries.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (depth != 0) return make_error(EINVAL, "'(' without ')'");
    if (!cur.empty()) entries.push_back(std::move(cur));
    if (entries.empty()) return make_error(EINVAL, "no algorithm given");

    Compression out;
    for (const auto& entry : entries) {
        auto open = entry.find('(');
        std::string name = entry.substr(0, open);
        std::vector<std::pair<std::string, std::string>> params;
        if (open != std::string::npos) {
            if (entry.back() != ')') return make_error(EINVAL, "text after ')' in '" + entry + "'");
            auto p = parse_params(std::string_view(entry).substr(open + 1, entry.size() - open - 2));
            if (!p) return make_error(EINVAL, p.error().message + " in '" + entry + "'");
            params = std::move(*p);
        }
        if (name.empty()) {
            if (params.empty()) return make_error(EINVAL, "empty '()'");
            for (const auto& [k, v] : params) {
                static const std::set<std::string> known{"type", "threshold", "max_pages"};
                if (!known.contains(k))
                    return make_error(EINVAL, "unknown recompression parameter '" + k + "' (type, threshold, max_pages)");
                if (k == "type" && v != "idle" && v != "huge" && v != "huge_idle")
                    return make_error(EINVAL, "recompression type must be idle, huge or huge_idle");
            }
            out.global_params.insert(out.global_params.end(), params.begin(), params.end());
            continue;
        }
        if (!valid_name(name)) return make_error(EINVAL, "'" + name + "' is not an algorithm name");
        for (const auto& [k, v] : params)
            if (k != "level" && k != "dict")
                return make_error(EINVAL, "unknown parameter '" + k + "' for " + name + " (level, dict)");
        AlgorithmEntry a{name, std::move(params)};
        if (!out.primary) out.primary = std::move(a);
        else out.recompression.push_back(std::move(a));
    }
    if (!out.primary) return make_error(EINVAL, "no algorithm given, only recompression parameters");
    return out;
}

std::vector<fs::path> locate_config_files(const fs::path& root, std::vector<std::string>& messages)
{
    std::vector<fs::path> out;
    std::error_code ec;
    for (const char* dir : kConfigDirs) {
        fs::path main = root / dir / kMainName;
        if (!fs::exists(fs::symlink_status(main, ec))) continue;
        if (!is_mask(main)) out.push_back(main);
        break; // the first one present wins, even when it masks
    }
    // Drop-ins by file name: a higher folder replaces (or masks) the same name in a lower one.
    std::map<std::string, fs::path> dropins;
    for (const char* dir : kConfigDirs) {
        fs::path d = root / dir / kDropinDir;
        if (!fs::is_directory(d, ec)) continue;
        fs::directory_iterator it(d, ec), end;
        if (ec) {
            messages.push_back(shown_path(root, d) + ": cannot list: " + describe_error(ec));
            continue;
        }
        for (; it != end; it.increment(ec)) {
            if (ec) break;
            std::string name = it->path().filename().string();
            if (!name.ends_with(".conf") || name.starts_with(".")) continue;
            dropins.try_emplace(name, it->path());
        }
    }
    for (const auto& [name, path] : dropins)
        if (!is_mask(path)) out.push_back(path);
    return out;
}

Result<double> read_memtotal_mib(const fs::path& root)
{
    fs::path path = root / "proc/meminfo";
    std::ifstream in(path);
    if (!in) return make_error(ENOENT, "cannot read " + path.string());
    std::string key;
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        double kib = 0;
        if (words >> key && key == "MemTotal:" && words >> kib) return kib / 1024.0;
    }
    return make_error(EINVAL, "no MemTotal in " + path.string());
}

std::optional<bool> parse_kernel_cmdline(std::string_view cmdline, std::vector<std::string>& messages)
{
    std::optional<bool> result;
    std::string word;
    bool quoted = false;
    auto finish = [&]() {
        auto eq = word.find('=');
        std::string key = word.substr(0, eq);
        if (key == "trueno.zram" || key == "systemd.zram") {
            bool on = true;
            if (eq != std::string::npos && !parse_bool(std::string_view(word).substr(eq + 1), on))
                messages.push_back("kernel command line: cannot understand '" + word + "' (use =0 or =1), ignoring it");
            else
                result = on;
        }
        word.clear();
    };
    for (char c : cmdline) {
        if (c == '"') quoted = !quoted;
        else if (!quoted && std::isspace(static_cast<unsigned char>(c))) {
            if (!word.empty()) finish();
        } else word += c;
    }
    if (!word.empty()) finish();
    return result;
}

Result<std::uint64_t> parse_timespan_s(std::string_view text)
{
    static const std::pair<const char*, std::uint64_t> units[] = {
        {"s", 1}, {"sec", 1}, {"second", 1}, {"seconds", 1}, {"m", 60}, {"min", 60}, {"minute", 60},
        {"minutes", 60}, {"h", 3600}, {"hr", 3600}, {"hour", 3600}, {"hours", 3600}, {"d", 86400},
        {"day", 86400}, {"days", 86400}, {"w", 604800}, {"week", 604800}, {"weeks", 604800}};
    std::uint64_t total = 0;
    std::size_t i = 0;
    bool any = false;
    auto err = [&] { return make_error(EINVAL, "not a time span (e.g. 30min, 1h, 1h 30min, 2d)"); };
    while (i < text.size()) {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
        if (i == text.size()) break;
        std::uint64_t n = 0;
        auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
        if (ec != std::errc{}) return err();
        i = p - text.data();
        while (i < text.size() && text[i] == ' ') ++i;
        std::size_t u = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        std::string unit(text.substr(u, i - u));
        std::uint64_t mult = 0;
        if (unit.empty()) mult = 1;
        for (const auto& [name, m] : units)
            if (unit == name) mult = m;
        if (mult == 0 || n > (UINT64_C(1) << 40)) return err();
        total += n * mult;
        if (total > (UINT64_C(1) << 50)) return err();
        any = true;
    }
    if (!any) return err();
    return total;
}

Config build_config(const std::vector<std::pair<std::string, std::string>>& files, double ram_mib,
                    std::optional<bool> cmdline)
{
    ConfigBuilder builder(ram_mib);
    for (const auto& [name, text] : files) builder.read_file(name, text);
    builder.apply_cmdline(cmdline);
    return builder.finish();
}

Config load_config(const fs::path& root)
{
    std::vector<std::string> messages;
    auto ram = read_memtotal_mib(root);
    if (!ram) {
        Config c;
        c.messages.push_back(ram.error().message + ": cannot size devices, creating none");
        return c;
    }
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& path : locate_config_files(root, messages)) {
        auto text = read_text_file(path);
        if (!text) {
            messages.push_back(shown_path(root, path) + ": cannot read (" + text.error().message + "), skipping this file");
            continue;
        }
        files.emplace_back(shown_path(root, path), std::move(*text));
    }
    std::string cmdline_text;
    {
        std::ifstream in(root / "proc/cmdline");
        std::getline(in, cmdline_text, '\0');
    }
    auto cmdline = parse_kernel_cmdline(cmdline_text, messages);
    Config config = build_config(files, *ram, cmdline);
    messages.insert(messages.end(), config.messages.begin(), config.messages.end());
    config.messages = std::move(messages);
    return config;
}

} // namespace trueno::generator
