#include "stack_prefault.hpp"

namespace trueno::ublk {

[[gnu::noinline]] void prefault_stack() {
    volatile std::byte area[kStackPrefaultBytes];
    for (std::size_t i = 0; i < kStackPrefaultBytes; i += 1024)
        area[i] = std::byte{0};
    (void)area[0]; // a volatile read: the stores above are not dead
}

} // namespace trueno::ublk
