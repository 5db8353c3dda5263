#include "process_hardening.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace trueno::service {
namespace {

std::string failure(const std::string& what)
{
    return what + ": " + std::strerror(errno);
}

} // namespace

std::vector<std::string> harden_for_swap()
{
    std::vector<std::string> warnings;
    // Every page of the daemon, now and later, must stay resident: a fault that needs swap-in
    // from the device this process serves would never complete. MCL_ONFAULT locks pages as they
    // are touched instead of populating whole mappings at once: the store reserves large
    // address ranges it fills gradually, and of the libraries' code (11 MB mapped, measured in
    // the VM) only what runs needs to be resident. Pages already touched are locked now. A code
    // page first run later is read from its file, never from swap, and the threads swap waits
    // on may take that page below the min watermark (SCHED_FIFO, service/realtime.hpp); the
    // memory the I/O path writes is populated ahead (StoreConfig::never_fault_on_io).
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
        warnings.push_back(failure("mlockall (raise LimitMEMLOCK / RLIMIT_MEMLOCK)"));

    if (int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC); fd >= 0) {
        if (write(fd, "-1000", 5) != 5)
            warnings.push_back(failure("writing oom_score_adj -1000"));
        close(fd);
    } else {
        warnings.push_back(failure("opening /proc/self/oom_score_adj"));
    }

    // A private mount namespace, receiving but never sending propagation: no unmount on the
    // host can wait for this process, and its exit unmounts nothing.
    if (unshare(CLONE_NEWNS) != 0)
        warnings.push_back(failure("unshare(CLONE_NEWNS)"));
    else if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
        warnings.push_back(failure("making / rslave in the private mount namespace"));
    return warnings;
}

} // namespace trueno::service
