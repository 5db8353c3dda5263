#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "supervisor_swap.hpp"

namespace fs = std::filesystem;

namespace {

struct FakeCgroups {
    fs::path root = fs::temp_directory_path() / ("supervisor-swap-" + std::to_string(::getpid()));
    FakeCgroups() { fs::remove_all(root); }
    ~FakeCgroups() { fs::remove_all(root); }
    void write(const std::string& unit, const std::string& value) {
        fs::create_directories(root / unit);
        std::ofstream(root / unit / "memory.swap.max") << value << "\n";
    }
    std::string read(const std::string& unit) {
        std::string value;
        std::ifstream(root / unit / "memory.swap.max") >> value;
        return value;
    }
};

} // namespace

TEST_CASE("PID 1 and journald are kept out of swap", "[supervisor]") {
    FakeCgroups cgroups;
    cgroups.write("init.scope", "max");
    cgroups.write("system.slice/systemd-journald.service", "0");
    auto notes = trueno::service::keep_supervisors_out_of_swap(cgroups.root.string());
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("init.scope: memory.swap.max was max, set to 0") == 0);
    CHECK(cgroups.read("init.scope") == "0");
    CHECK(cgroups.read("system.slice/systemd-journald.service") == "0");
    // Already right: nothing to say.
    CHECK(trueno::service::keep_supervisors_out_of_swap(cgroups.root.string()).empty());
}

TEST_CASE("a cgroup without the memory controller is reported, not guessed", "[supervisor]") {
    FakeCgroups cgroups;
    cgroups.write("init.scope", "0");
    auto notes = trueno::service::keep_supervisors_out_of_swap(cgroups.root.string());
    REQUIRE(notes.size() == 1);
    CHECK(notes[0].find("system.slice/systemd-journald.service: no ") == 0);
}
