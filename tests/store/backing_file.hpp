// A regular file standing in for a backing block device in store tests (the store accepts
// one; the daemon's backing_dev attribute takes block devices only). On disk where it can be
// (/var/tmp), so that O_DIRECT is used as on a device; removed with the object.
#pragma once

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace trueno::test {

class BackingFile {
public:
    explicit BackingFile(std::uint64_t blocks) {
        const char* dir = std::getenv("TMPDIR");
        std::string pattern =
            std::string(dir && *dir ? dir : "/var/tmp") + "/trueno-backing-XXXXXX";
        const int fd = ::mkstemp(pattern.data());
        REQUIRE(fd >= 0);
        REQUIRE(::ftruncate(fd, static_cast<off_t>(blocks * 4096)) == 0);
        ::close(fd);
        path_ = pattern;
    }
    ~BackingFile() { ::unlink(path_.c_str()); }
    BackingFile(const BackingFile&) = delete;
    BackingFile& operator=(const BackingFile&) = delete;

    const std::string& path() const { return path_; }
    // Cuts the file to `blocks` blocks: what lay beyond reads as a short transfer (EIO).
    void truncate(std::uint64_t blocks) const {
        REQUIRE(::truncate(path_.c_str(), static_cast<off_t>(blocks * 4096)) == 0);
    }

private:
    std::string path_;
};

} // namespace trueno::test
