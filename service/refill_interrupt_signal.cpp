#include "refill_interrupt_signal.hpp"

#include <cerrno>
#include <cstring>
#include <signal.h>
#include <string>

namespace trueno::service {

namespace {

// Its delivery is the point: it wakes the thread from an interruptible wait in the kernel.
void ignore_refill_interrupt(int) {}

} // namespace

Result<int> install_refill_interrupt_signal() {
    struct sigaction action {};
    action.sa_handler = ignore_refill_interrupt;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGURG, &action, nullptr) != 0)
        return make_error(errno, std::string("sigaction(SIGURG): ") + std::strerror(errno));
    return SIGURG;
}

} // namespace trueno::service
