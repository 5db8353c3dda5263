// One ublk block device served from a page store: ADD_DEV + SET_PARAMS, the char device, one
// IoQueue per hardware queue, START_DEV; and the reverse on stop (STOP_DEV, join, DEL_DEV).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control_device.hpp"
#include "io_queue.hpp"
#include "trueno/page_store.hpp"
#include "trueno/result.hpp"
#include "unique_fd.hpp"

namespace trueno::ublk {

enum class CopyMode { automatic, user, buffer };

// "auto", "user", "buffer" -> CopyMode; nothing for anything else.
Result<CopyMode> parse_copy_mode(const std::string& text);

struct DeviceOptions {
    unsigned queues = 0;                // 0: one per CPU, at most 4
    unsigned depth = 128;
    std::uint32_t max_io_bytes = 64 * 1024; // per request, and per tag buffer
    CopyMode copy_mode = CopyMode::automatic;
};

class UblkDevice {
public:
    // Creates and starts /dev/ublkbN for the store (its disksize is the device size).
    // requested_id < 0 lets the kernel pick.
    static Result<std::unique_ptr<UblkDevice>> create(ControlDevice& control, int requested_id,
                                                       std::shared_ptr<PageStore> store,
                                                       const DeviceOptions& options);
    ~UblkDevice(); // stops the device if stop() was not called
    UblkDevice(const UblkDevice&) = delete;
    UblkDevice& operator=(const UblkDevice&) = delete;

    int id() const { return id_; }
    std::string block_path() const { return block_device_path(id_); }
    dev_t block_devt() const { return devt_; }
    bool user_copy() const { return user_copy_; }
    std::uint64_t flags() const { return flags_; }
    std::uint64_t requests() const;

    // STOP_DEV, waits for the queue threads, closes the char device, DEL_DEV. Idempotent.
    Status stop();

private:
    UblkDevice(ControlDevice& control, int id, std::shared_ptr<PageStore> store);

    ControlDevice& control_;
    int id_;
    std::shared_ptr<PageStore> store_;
    UniqueFd char_fd_;
    std::vector<std::unique_ptr<IoQueue>> queues_;
    dev_t devt_ = 0;
    bool user_copy_ = false;
    std::uint64_t flags_ = 0;
    std::uint64_t finished_requests_ = 0; // of queues already stopped
    bool added_ = false;
    bool started_ = false;
};

} // namespace trueno::ublk
