// BlockTools on the real system: /dev nodes, /proc/swaps and mounts, mkswap and mkfs.
#pragma once

#include "device_setup.hpp"

namespace trueno::generator {

class SystemBlockTools final : public BlockTools {
public:
    Status wait_for_node(const std::string& path) override;
    bool is_active(const std::string& path) override;
    bool has_signature(const std::string& path, const std::string& fs_type) override;
    Status make_filesystem(const std::string& path, const std::string& fs_type) override;
};

} // namespace trueno::generator
