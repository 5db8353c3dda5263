// The signal a write waiting for a store's refill thread sends it, to end the kernel's
// throttle of the refiller's reclaim (lib/store/refill_interrupter.hpp says why).
#pragma once

#include "trueno/result.hpp"

namespace trueno::service {

// Installs a handler that does nothing (SA_RESTART: no system call of the thread it lands on
// fails with EINTR) for the signal, and returns the signal's number. Call before any store is
// made. SIGURG: nothing else in the daemon uses it, and a process without the handler
// ignores it.
Result<int> install_refill_interrupt_signal();

} // namespace trueno::service
