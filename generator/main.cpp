// trueno-zram-generator: as a systemd generator, turns trueno-zram.conf into units; as
// --setup-device / --reset-device, does what trueno-zram-setup@.service asks.
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "config.hpp"
#include "daemon_client.hpp"
#include "device_setup.hpp"
#include "generate.hpp"
#include "system_block_tools.hpp"

namespace gen = trueno::generator;

namespace {

void usage(std::ostream& out)
{
    out << "Usage: trueno-zram-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n"
           "       trueno-zram-generator --setup-device ublkbN\n"
           "       trueno-zram-generator --reset-device ublkbN\n"
           "       trueno-zram-generator --print-config\n"
           "       trueno-zram-generator --help | --version\n"
           "Environment: TRUENO_ZRAM_GENERATOR_ROOT=DIR reads the configuration, proc/meminfo and\n"
           "proc/cmdline under DIR (tests); TRUENO_ZRAM_SOCKET=PATH talks to another daemon socket.\n";
}

int device_mode(const std::string& mode, const std::string& name, const std::string& root)
{
    auto id = gen::parse_device_name(name);
    if (!id) {
        std::cerr << "trueno-zram-generator: " << id.error().message << "\n";
        return 2;
    }
    const char* socket_env = std::getenv("TRUENO_ZRAM_SOCKET");
    auto daemon = gen::DaemonClient::connect(socket_env && *socket_env ? socket_env : gen::kDefaultSocket);
    if (!daemon) {
        std::cerr << "trueno-zram-generator: " << daemon.error().message << "\n";
        return 1;
    }
    trueno::Status status;
    if (mode == "--reset-device") {
        status = gen::reset_device(*id, **daemon, std::cout);
    } else {
        gen::Config config = gen::load_config(root);
        for (const auto& m : config.messages) std::cerr << "trueno-zram-generator: " << m << "\n";
        auto it = config.devices.find(*id);
        if (it == config.devices.end()) {
            std::cerr << "trueno-zram-generator: no device [zram" << *id << "] is configured (or it is disabled); see trueno-zram.conf(5)\n";
            return 1;
        }
        gen::SystemBlockTools tools;
        status = gen::setup_device(it->second, **daemon, tools, std::cout);
    }
    if (!status) {
        std::cerr << "trueno-zram-generator: " << status.error().message << "\n";
        return 1;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> args(argv + 1, argv + argc);
    const char* root_env = std::getenv("TRUENO_ZRAM_GENERATOR_ROOT");
    bool test_mode = root_env && *root_env;
    std::string root = test_mode ? root_env : "/";
    try {
        if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
            usage(std::cout);
            return 0;
        }
        if (args.size() == 1 && args[0] == "--version") {
            std::cout << "trueno-zram-generator " << TRUENO_VERSION << "\n";
            return 0;
        }
        if (args.size() == 1 && args[0] == "--print-config") return gen::print_config(root, std::cout, std::cerr);
        if (args.size() == 2 && (args[0] == "--setup-device" || args[0] == "--reset-device"))
            return device_mode(args[0], args[1], root);
        if ((args.size() == 1 || args.size() == 3) && !args[0].starts_with("-"))
            return gen::generate(root, test_mode, args[0], std::cerr);
    } catch (const std::exception& e) {
        // Never an unexplained crash at boot.
        std::cerr << "trueno-zram-generator: unexpected error: " << e.what() << "\n";
        return 1;
    }
    usage(std::cerr);
    return 2;
}
