#include "container.hpp"

#include "text_file.hpp"

namespace trueno::generator {

bool in_container(const std::filesystem::path& root, bool test_mode)
{
    if (auto marker = read_text_file(root / "run/systemd/container"); marker && !marker->empty()) return true;
    if (test_mode) return false; // the test root has no PID 1 of its own
    auto environ = read_text_file("/proc/1/environ");
    if (!environ) return false;
    // NUL-separated NAME=value entries.
    std::string_view env(*environ);
    while (!env.empty()) {
        auto end = env.find('\0');
        auto entry = env.substr(0, end);
        if (entry.starts_with("container=") && entry.size() > 10) return true;
        if (end == std::string_view::npos) break;
        env.remove_prefix(end + 1);
    }
    return false;
}

} // namespace trueno::generator
