#include "backing_device.hpp"

#include "backing_blocks.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace trueno::store {

Result<std::unique_ptr<BackingDevice>> BackingDevice::open(const std::string& path) {
    if (path.empty() || path[0] != '/')
        return make_error(EINVAL, "backing device '" + path + "': not an absolute path");
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return errno_error(errno, "backing device " + path);
    const bool block_device = S_ISBLK(st.st_mode);
    if (!block_device && !S_ISREG(st.st_mode))
        return make_error(ENOTBLK, "backing device " + path + ": not a block device");

    const int flags = O_RDWR | O_CLOEXEC | (block_device ? O_EXCL : 0);
    UniqueFd fd(::open(path.c_str(), flags | O_DIRECT));
    if (!fd && errno == EINVAL && !block_device)
        fd.reset(::open(path.c_str(), flags)); // tmpfs: no O_DIRECT
    if (!fd) {
        const int code = errno;
        return errno_error(code, "backing device " + path +
                                     (code == EBUSY ? " (in use: mounted, swap or claimed)" : ""));
    }
    std::uint64_t bytes = 0;
    if (block_device) {
        if (::ioctl(fd.get(), BLKGETSIZE64, &bytes) != 0)
            return errno_error(errno, "backing device " + path + ": size");
    } else {
        if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
            const int code = errno;
            return errno_error(code == EWOULDBLOCK ? EBUSY : code,
                               "backing file " + path + " is in use");
        }
        bytes = static_cast<std::uint64_t>(st.st_size);
    }
    const std::uint64_t blocks = bytes / kBackingBlockBytes;
    if (blocks == 0)
        return make_error(EINVAL, "backing device " + path + " is smaller than one 4 KiB block");
    const std::uint64_t identity = block_device ? static_cast<std::uint64_t>(st.st_rdev)
                                                : static_cast<std::uint64_t>(st.st_ino);
    return std::unique_ptr<BackingDevice>(
        new BackingDevice(std::move(fd), path, blocks, block_device, identity));
}

namespace {

Status transfer_error(ssize_t done, int code, const std::string& what) {
    if (done < 0)
        return errno_error(code, what);
    return make_error(EIO, what + ": short transfer (" + std::to_string(done) + " bytes)");
}

} // namespace

Status BackingDevice::write_block(std::uint64_t block, std::span<const std::byte> data) {
    if (block >= blocks_ || data.size() != kBackingBlockBytes)
        return make_error(EINVAL,
                          "backing block " + std::to_string(block) + " is outside " + path_);
    const ssize_t done = ::pwrite(fd_.get(), data.data(), data.size(),
                                  static_cast<off_t>(block * kBackingBlockBytes));
    const int code = errno;
    if (done != static_cast<ssize_t>(data.size()))
        return transfer_error(done, code,
                              "writing block " + std::to_string(block) + " of " + path_);
    return {};
}

Status BackingDevice::read_block(std::uint64_t block, std::span<std::byte> out) {
    const std::uint64_t count = out.size() / kBackingBlockBytes;
    if (count == 0 || out.size() % kBackingBlockBytes != 0 || block >= blocks_ ||
        count > blocks_ - block)
        return make_error(EINVAL,
                          "backing block " + std::to_string(block) + " is outside " + path_);
    const ssize_t done =
        ::pread(fd_.get(), out.data(), out.size(), static_cast<off_t>(block * kBackingBlockBytes));
    const int code = errno;
    if (done != static_cast<ssize_t>(out.size()))
        return transfer_error(done, code,
                              "reading block " + std::to_string(block) + " of " + path_);
    return {};
}

} // namespace trueno::store
