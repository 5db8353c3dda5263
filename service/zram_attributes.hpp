// Kernel zram's sysfs attributes over one page store: the same names, value formats and errors
// as /sys/block/zramN/*, independent of ublk so it is testable without a kernel.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "device_manager.hpp"
#include "trueno/page_store.hpp"
#include "trueno/result.hpp"

namespace trueno::service {

class ZramAttributes {
public:
    // The store is initialised (disksize set) for the attributes' whole life: a ublk device's
    // size is fixed when it starts, so writes that need an uninitialised device are EBUSY.
    ZramAttributes(std::shared_ptr<PageStore> store, StoreConfig config);

    // Every readable attribute (disksize, initstate, comp_algorithm, algorithm_params is
    // write-only and absent, mem_limit, mm_stat, io_stat, debug_stat, recomp_algorithm, ...).
    AttributeMap read_all() const;

    // One attribute; ENOENT for an unknown name, EACCES for a write-only one.
    Result<std::string> read(const std::string& name) const;

    // The kernel's semantics and errors: EINVAL for bad values, EBUSY for init-only attributes,
    // EACCES for read-only ones, ENOENT for unknown names. "reset" is not handled here (the
    // device manager removes the device).
    Status write(const std::string& name, const std::string& value);

private:
    std::shared_ptr<PageStore> store_;
    StoreConfig config_;
    mutable std::mutex mutex_; // serialises attribute writes, as sysfs does per device
};

} // namespace trueno::service
