// The file a store writes pages back to: a block device (or, for tests, a regular file),
// held exclusively and read and written in whole 4 KiB blocks with O_DIRECT, so that written-
// back pages do not come back into RAM as page cache (freeing RAM is the point).
#pragma once

#include "trueno/result.hpp"
#include "trueno/unique_fd.hpp"

#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace trueno::store {

class BackingDevice {
public:
    // Opens `path` read-write. A block device is claimed exclusively (O_EXCL: EBUSY while
    // mounted or claimed, as kernel zram's claim fails); a regular file is locked (flock) and
    // used without O_DIRECT where its file system has none (tmpfs). Anything else: ENOTBLK.
    // A device smaller than one block: EINVAL.
    static Result<std::unique_ptr<BackingDevice>> open(const std::string& path);

    const std::string& path() const { return path_; }
    std::uint64_t blocks() const { return blocks_; }
    bool is_block_device() const { return block_device_; }
    // Identity as found at open (st_rdev for a block device, st_ino for a file): a take-over
    // checks it is the same device the pages went to.
    std::uint64_t identity() const { return identity_; }

    // One block; `data` must be 4096-byte aligned (O_DIRECT). A short or failed transfer is an
    // error (EIO when the kernel gave no other).
    Status write_block(std::uint64_t block, std::span<const std::byte> data);
    // out.size() / 4096 consecutive blocks from `block` on (an object that spans two).
    Status read_block(std::uint64_t block, std::span<std::byte> out);

private:
    BackingDevice(UniqueFd fd, std::string path, std::uint64_t blocks, bool block_device,
                  std::uint64_t identity)
        : fd_(std::move(fd)), path_(std::move(path)), blocks_(blocks), block_device_(block_device),
          identity_(identity) {}

    UniqueFd fd_;
    std::string path_;
    std::uint64_t blocks_;
    bool block_device_;
    std::uint64_t identity_;
};

} // namespace trueno::store
