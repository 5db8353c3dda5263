// trueno-zramctl: a zramctl-compatible control tool for trueno-zramd's devices.
#include <iostream>
#include <string>
#include <vector>

#include "app.hpp"

int main(int argc, char** argv)
{
    std::vector<std::string> args(argv, argv + argc);
    try {
        return trueno::zramctl::run(args, std::cout, std::cerr, trueno::zramctl::system_environment());
    } catch (const std::exception& e) {
        std::cerr << "trueno-zramctl: " << e.what() << '\n';
        return 1;
    }
}
