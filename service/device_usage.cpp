#include "device_usage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>

#include <fstream>
#include <sstream>

namespace trueno::service {
namespace {

std::string read_file(const char* path)
{
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The kernel escapes space, tab, newline and backslash in paths as \ooo.
std::string unescape_octal(std::string_view s)
{
    std::string out;
    const auto octal = [&](std::size_t k) { return s[k] >= '0' && s[k] <= '7'; };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += s[i];
    }
    return out;
}

bool same_device_by_stat(const std::string& path, dev_t devt)
{
    struct stat st {};
    return devt != 0 && stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devt;
}

} // namespace

std::optional<std::string> swap_user(std::string_view proc_swaps, std::string_view device_path,
                                     dev_t devt, bool (*same_device)(const std::string&, dev_t))
{
    std::istringstream lines{std::string(proc_swaps)};
    std::string line;
    std::getline(lines, line); // header: Filename Type Size Used Priority
    while (std::getline(lines, line)) {
        std::istringstream fields(line);
        std::string name;
        if (!(fields >> name))
            continue;
        const std::string path = unescape_octal(name);
        if (path == device_path || (same_device && same_device(path, devt)))
            return "active swap (" + path + " in /proc/swaps): swapoff it first";
    }
    return std::nullopt;
}

std::optional<std::string> mount_user(std::string_view mountinfo, dev_t devt)
{
    if (devt == 0)
        return std::nullopt;
    const std::string wanted = std::to_string(major(devt)) + ":" + std::to_string(minor(devt));
    std::istringstream lines{std::string(mountinfo)};
    std::string line;
    while (std::getline(lines, line)) {
        // mount_id parent_id major:minor root mount_point ...
        std::istringstream fields(line);
        std::string id, parent, number, root, mount_point;
        if (!(fields >> id >> parent >> number >> root >> mount_point))
            continue;
        if (number == wanted)
            return "mounted on " + unescape_octal(mount_point) + ": unmount it first";
    }
    return std::nullopt;
}

std::optional<std::string> device_busy_reason(const std::string& device_path, dev_t devt)
{
    if (auto r = swap_user(read_file("/proc/swaps"), device_path, devt, same_device_by_stat))
        return r;
    return mount_user(read_file("/proc/self/mountinfo"), devt);
}

Status removal_verdict(const std::string& device_path, int open_errno,
                       const std::function<std::optional<std::string>()>& busy_reason)
{
    if (open_errno == EBUSY) {
        const auto reason = busy_reason();
        return make_error(EBUSY, device_path + " is " +
                                     reason.value_or("in use (held exclusively: swap, a mount, "
                                                     "possibly in another namespace, or a "
                                                     "device mapper or md device)"));
    }
    // No node to open (udev has not made it, or it was removed): the tables are all there is.
    if (open_errno == ENOENT) {
        if (auto reason = busy_reason())
            return make_error(EBUSY, device_path + " is " + *reason);
    }
    return {};
}

Result<UniqueFd> claim_for_removal(const std::string& device_path, dev_t devt)
{
    UniqueFd fd(::open(device_path.c_str(), O_RDONLY | O_EXCL | O_CLOEXEC));
    if (fd)
        return fd;
    const int error = errno;
    auto verdict =
        removal_verdict(device_path, error, [&] { return device_busy_reason(device_path, devt); });
    if (!verdict)
        return verdict.error();
    return UniqueFd();
}

} // namespace trueno::service
