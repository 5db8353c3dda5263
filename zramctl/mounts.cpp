#include "mounts.hpp"

#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <vector>

namespace trueno::zramctl {
namespace {

std::string slurp(const char* path)
{
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::vector<std::string> fields_of(const std::string& line)
{
    std::istringstream in(line);
    std::vector<std::string> fields;
    for (std::string f; in >> f;)
        fields.push_back(f);
    return fields;
}

} // namespace

std::string unescape_proc_field(const std::string& field)
{
    std::string out;
    for (std::size_t i = 0; i < field.size(); ++i) {
        if (field[i] == '\\' && i + 3 < field.size()) {
            const char a = field[i + 1], b = field[i + 2], c = field[i + 3];
            auto octal = [](char ch) { return ch >= '0' && ch <= '7'; };
            if (octal(a) && octal(b) && octal(c)) {
                out += static_cast<char>(((a - '0') << 6) | ((b - '0') << 3) | (c - '0'));
                i += 3;
                continue;
            }
        }
        out += field[i];
    }
    return out;
}

MountTable MountTable::from_proc() { return MountTable(slurp("/proc/swaps"), slurp("/proc/self/mountinfo")); }

MountTable::MountTable(std::string swaps_text, std::string mountinfo_text)
    : swaps_(std::move(swaps_text)), mountinfo_(std::move(mountinfo_text))
{
}

std::string MountTable::usage_of(const std::string& device_path) const
{
    struct stat st {};
    const bool have_rdev = ::stat(device_path.c_str(), &st) == 0 && S_ISBLK(st.st_mode);
    return usage_of(device_path, have_rdev ? st.st_rdev : 0, have_rdev);
}

std::string MountTable::usage_of(const std::string& device_path, dev_t rdev, bool have_rdev) const
{
    // /proc/swaps: a heading line, then "Filename Type Size Used Priority".
    std::istringstream swaps(swaps_);
    std::string line;
    bool heading = true;
    while (std::getline(swaps, line)) {
        if (heading) {
            heading = false;
            continue;
        }
        auto f = fields_of(line);
        if (!f.empty() && unescape_proc_field(f[0]) == device_path)
            return "[SWAP]";
    }

    // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS".
    const std::string devno =
        have_rdev ? std::to_string(major(rdev)) + ":" + std::to_string(minor(rdev)) : std::string{};
    std::istringstream mounts(mountinfo_);
    while (std::getline(mounts, line)) {
        auto f = fields_of(line);
        if (f.size() < 5)
            continue;
        std::string source;
        for (std::size_t i = 5; i + 2 < f.size(); ++i) {
            if (f[i] == "-") {
                source = unescape_proc_field(f[i + 2]);
                break;
            }
        }
        if ((have_rdev && f[2] == devno) || source == device_path)
            return unescape_proc_field(f[4]);
    }
    return {};
}

} // namespace trueno::zramctl
