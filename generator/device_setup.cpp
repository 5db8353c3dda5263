#include "device_setup.hpp"

#include <algorithm>
#include <charconv>
#include <ostream>

namespace trueno::generator {
namespace {

std::string join(const std::vector<std::string>& v)
{
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
    return out;
}

// comp_algorithm reads "lzo [lz4] zstd": the selected one is bracketed.
std::string selected_algorithm(const std::string& attr)
{
    auto open = attr.find('[');
    auto close = attr.find(']', open);
    if (open == std::string::npos || close == std::string::npos) return attr;
    return attr.substr(open + 1, close - open - 1);
}

Status check_algorithms(const DeviceConfig& c, Daemon& daemon)
{
    std::vector<std::string> wanted;
    if (c.compression.primary) wanted.push_back(c.compression.primary->name);
    for (const auto& r : c.compression.recompression) wanted.push_back(r.name);
    if (wanted.empty()) return {};
    auto available = daemon.algorithms();
    if (!available) return available.error();
    for (const auto& w : wanted)
        if (std::find(available->begin(), available->end(), w) == available->end())
            return make_error(EINVAL, "unknown compression algorithm '" + w + "' (trueno-zramd has: " + join(*available) + ")");
    return {};
}

std::uint64_t page_round(std::uint64_t bytes) { return (bytes + 4095) / 4096 * 4096; }

} // namespace

Result<int> parse_device_name(std::string_view name)
{
    std::string_view n = name;
    if (n.starts_with("/dev/")) n.remove_prefix(5);
    if (!n.starts_with("ublkb")) return make_error(EINVAL, "'" + std::string(name) + "' is not a device name like ublkb0");
    n.remove_prefix(5);
    int id = -1;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), id);
    if (n.empty() || ec != std::errc{} || p != n.data() + n.size() || id < 0)
        return make_error(EINVAL, "'" + std::string(name) + "' is not a device name like ublkb0");
    return id;
}

Status setup_device(const DeviceConfig& c, Daemon& daemon, BlockTools& tools, std::ostream& log)
{
    const std::string path = "/dev/" + c.device_name();
    if (auto s = check_algorithms(c, daemon); !s) return s;

    auto devices = daemon.list_devices();
    if (!devices) return devices.error();
    auto existing = std::find_if(devices->begin(), devices->end(), [&](const Device& d) { return d.id == c.id; });
    const std::uint64_t want = page_round(c.disksize_bytes);
    bool created = false;
    if (existing != devices->end()) {
        // Re-running setup (a restarted unit) must not fail on, or destroy, a working device.
        auto it = existing->attributes.find("disksize");
        std::uint64_t have = 0;
        if (it != existing->attributes.end()) std::from_chars(it->second.data(), it->second.data() + it->second.size(), have);
        if (have != want)
            return make_error(EEXIST, path + " already exists with disksize " + std::to_string(have) + " bytes but the configuration asks for " +
                                          std::to_string(want) + "; remove it first (trueno-zramctl --reset " + path + ")");
        log << path << ": already set up with the configured size (" << want << " bytes)\n";
        if (c.compression.primary) {
            auto alg = existing->attributes.find("comp_algorithm");
            if (alg != existing->attributes.end() && selected_algorithm(alg->second) != c.compression.primary->name)
                log << path << ": note: it uses " << selected_algorithm(alg->second) << ", the configuration says "
                    << c.compression.primary->name << " (applies after the device is reset)\n";
        }
        if (tools.is_active(path)) {
            log << path << ": in use, leaving it as it is\n";
            return {};
        }
    } else {
        CreateDeviceRequest req;
        req.size = want;
        req.id = c.id;
        req.mem_limit = c.mem_limit_bytes;
        if (c.compression.primary) {
            req.algorithm = c.compression.primary->name;
            if (auto params = c.compression.primary->params_text(); !params.empty()) req.params = params;
        }
        auto id = daemon.create_device(req);
        if (!id) return make_error(id.error().code, "creating " + path + ": " + id.error().message);
        if (*id != c.id) {
            (void)daemon.remove_device(*id);
            return make_error(EIO, "asked trueno-zramd for " + path + " but got /dev/ublkb" + std::to_string(*id));
        }
        created = true;
        log << path << ": created, " << want << " bytes, " << req.algorithm.value_or("default algorithm")
            << (req.params ? " (" + *req.params + ")" : "") << "\n";
    }

    if (created) {
        // Recompression and writeback are extras: a failure is reported, the swap still comes up.
        int priority = 0;
        for (const auto& r : c.compression.recompression) {
            ++priority;
            std::string value = "algo=" + r.name + " priority=" + std::to_string(priority);
            if (auto s = daemon.set_attribute(c.id, "recomp_algorithm", value); !s) {
                log << path << ": warning: recomp_algorithm \"" << value << "\" refused: " << s.error().message << "\n";
                continue;
            }
            if (!r.params.empty()) {
                // By priority, not algo=: the primary algorithm may have the same name.
                std::string pv = "priority=" + std::to_string(priority) + " " + r.params_text();
                if (auto s = daemon.set_attribute(c.id, "algorithm_params", pv); !s)
                    log << path << ": warning: algorithm_params \"" << pv << "\" refused: " << s.error().message << "\n";
            }
        }
        if (auto policy = c.recompress_policy_value())
            if (auto s = daemon.set_attribute(c.id, "recompress_policy", *policy); !s)
                log << path << ": warning: recompress_policy \"" << *policy << "\" refused: " << s.error().message << "\n";
        if (!c.writeback_device.empty()) {
            if (auto s = daemon.set_attribute(c.id, "backing_dev", c.writeback_device); !s) {
                log << path << ": warning: writeback-device " << c.writeback_device << " refused: " << s.error().message << "\n";
            } else if (auto policy = c.writeback_policy_value()) {
                if (auto p = daemon.set_attribute(c.id, "writeback_policy", *policy); !p)
                    log << path << ": warning: writeback_policy \"" << *policy
                        << "\" refused: " << p.error().message << "\n";
            }
        }
    }

    std::string fs_type = c.effective_fs_type();
    auto fail_and_remove = [&](const Error& e) -> Status {
        if (created) (void)daemon.remove_device(c.id); // do not leave a half-made device behind
        return make_error(e.code, path + ": " + e.message);
    };
    if (auto s = tools.wait_for_node(path); !s) return fail_and_remove(s.error());
    if (!created && tools.has_signature(path, fs_type)) {
        log << path << ": already formatted as " << fs_type << "\n";
        return {};
    }
    if (auto s = tools.make_filesystem(path, fs_type); !s) return fail_and_remove(s.error());
    log << path << ": formatted as " << fs_type << "\n";
    return {};
}

Status reset_device(int id, Daemon& daemon, std::ostream& log)
{
    const std::string path = "/dev/ublkb" + std::to_string(id);
    auto devices = daemon.list_devices();
    if (!devices) return devices.error();
    if (std::none_of(devices->begin(), devices->end(), [&](const Device& d) { return d.id == id; })) {
        log << path << ": not present, nothing to reset\n";
        return {};
    }
    if (auto s = daemon.remove_device(id); !s) return make_error(s.error().code, "removing " + path + ": " + s.error().message);
    log << path << ": removed\n";
    return {};
}

} // namespace trueno::generator
