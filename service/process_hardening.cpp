#include "process_hardening.hpp"

#include "trueno/codec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <sched.h>
#include <span>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <utility>

#ifndef PR_SET_IO_FLUSHER
#define PR_SET_IO_FLUSHER 57
#endif

namespace trueno::service {
namespace {

std::string failure(const std::string& what) {
    return what + ": " + std::strerror(errno);
}

// Locks, whole, the loaded segments of the program itself and of every shared object holding
// one of `code`: populated now, so none of their pages is first read from disk under pressure.
struct CodeLocking {
    std::span<const void* const> code;
    std::vector<std::string> warnings;
    bool first = true;
};

bool holds(const dl_phdr_info& object, const void* address) {
    const auto at = reinterpret_cast<std::uintptr_t>(address);
    for (int i = 0; i < object.dlpi_phnum; ++i) {
        const ElfW(Phdr)& segment = object.dlpi_phdr[i];
        const std::uintptr_t begin = object.dlpi_addr + segment.p_vaddr;
        if (segment.p_type == PT_LOAD && at >= begin && at - begin < segment.p_memsz)
            return true;
    }
    return false;
}

int lock_object_if_wanted(dl_phdr_info* object, size_t, void* data) {
    auto& locking = *static_cast<CodeLocking*>(data);
    const bool program = std::exchange(locking.first, false); // listed first
    if (!program && std::none_of(locking.code.begin(), locking.code.end(),
                                 [&](const void* at) { return holds(*object, at); }))
        return 0;
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    for (int i = 0; i < object->dlpi_phnum; ++i) {
        const ElfW(Phdr)& segment = object->dlpi_phdr[i];
        if (segment.p_type != PT_LOAD || segment.p_memsz == 0)
            continue;
        const std::uintptr_t begin = (object->dlpi_addr + segment.p_vaddr) & ~(page - 1);
        const std::uintptr_t end =
            (object->dlpi_addr + segment.p_vaddr + segment.p_memsz + page - 1) & ~(page - 1);
        if (mlock(reinterpret_cast<const void*>(begin), end - begin) != 0) {
            const std::string name = program ? "the program" : object->dlpi_name;
            locking.warnings.push_back(failure("locking the code of " + name));
            return 0;
        }
    }
    return 0;
}

} // namespace

std::vector<std::string> harden_for_swap(bool start_realtime) {
    std::vector<std::string> warnings;
    // First, before this process allocates anything: every thread is an I/O flusher (threads
    // inherit it). A daemon started while its devices' server is dead must not write swap to
    // them from its own reclaim: with the device's tags all taken by writes waiting for a
    // server, that write waits for the very process making it. Seen in the swap-kill VM test
    // at the kernel's default watermarks: the restarted daemon's first page faults sat in
    // blk_mq_get_tag under swap_writepage.
    if (prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0) != 0)
        warnings.push_back(failure("PR_SET_IO_FLUSHER (needs CAP_SYS_RESOURCE, Linux 5.6)"));
    // The heap changes the process's mappings as rarely as possible. Growing or shrinking it
    // (brk, a thread arena's mprotect, mmap and munmap of large blocks) takes the mmap_lock for
    // writing; a writer waits for every reader, one of them perhaps in reclaim waiting for swap
    // writes to our devices, and every page fault behind it waits too: the kill-loop VM test
    // hung with the refill thread in such an mprotect and both queue threads faulting behind it.
    // One arena (brk-grown, 2 MiB of slack a growth, returned only past 16 MiB of free top) and
    // blocks up to 32 MiB (a store's largest bookkeeping vectors) from it rather than mmap.
    // A standby's reserve relies on it too (standby.hpp).
    if (!keep_heap_in_place())
        warnings.push_back("mallopt: the heap keeps glibc's defaults");
    // Every page of the daemon, once touched, must stay resident: a fault that needs swap-in
    // from the device this process serves would never complete. MCL_ONFAULT locks pages as they
    // are touched instead of populating whole mappings at once: the store reserves large
    // address ranges it fills gradually, and of the libraries only what runs is resident (2.8
    // MB less than locking them whole, in the VM). A page first touched later is read from its
    // file, never from swap. The program's own code and the codecs' libraries are locked whole
    // (below): their rarely run paths (errors, a decoder's rare block types) must not wait for
    // a disk on the swap-in path.
    // Second: until its devices are served again (serve() calls leave_startup_priority), the
    // main thread runs at SCHED_FIFO 1, so its page faults may take memory down to half of the
    // min watermark (service/realtime.hpp). A daemon restarted while its devices' server is dead
    // may find free memory at the min watermark, with every reclaimer waiting for those very
    // devices; what it needs to take them over (its locked pages, the store's bookkeeping, the
    // queues' buffers and stacks) must not wait there too. Threads it starts do not inherit it.
    if (start_realtime && !enter_startup_priority())
        warnings.push_back(failure("starting at realtime priority (needs CAP_SYS_NICE)"));
    if (mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0)
        warnings.push_back(failure("mlockall (raise LimitMEMLOCK / RLIMIT_MEMLOCK)"));
    const std::vector<const void*> codec_code = codec_library_code();
    CodeLocking locking{codec_code, {}};
    dl_iterate_phdr(lock_object_if_wanted, &locking);
    warnings.insert(warnings.end(), locking.warnings.begin(), locking.warnings.end());

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

bool keep_heap_in_place() {
    return mallopt(M_ARENA_MAX, 1) == 1 && mallopt(M_TOP_PAD, 2 << 20) == 1 &&
           mallopt(M_TRIM_THRESHOLD, 16 << 20) == 1 && mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1;
}

bool enter_startup_priority() {
    sched_param param{};
    param.sched_priority = 1;
    return sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &param) == 0;
}

void leave_startup_priority() {
    sched_param param{};
    (void)sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &param);
}

} // namespace trueno::service
