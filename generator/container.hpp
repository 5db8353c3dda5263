// Whether we run inside a container, where swap and block devices are the host's business.
#pragma once

#include <filesystem>

namespace trueno::generator {

// root/run/systemd/container (written by the container manager, read by systemd-detect-virt)
// present and non-empty. On the real root also PID 1's environment having container=,
// which only root can read; a failure to read it means "not a container".
bool in_container(const std::filesystem::path& root, bool test_mode);

} // namespace trueno::generator
