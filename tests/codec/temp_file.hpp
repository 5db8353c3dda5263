// A file under $TMPDIR (or /tmp) removed when the test is done with it.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>

namespace trueno::test {

class TempFile {
public:
    explicit TempFile(std::span<const std::byte> contents) {
        const char* dir = std::getenv("TMPDIR");
        path_ = std::string(dir && *dir ? dir : "/tmp") + "/trueno-codec-test-XXXXXX";
        const int fd = ::mkstemp(path_.data());
        if (fd < 0) throw std::runtime_error("mkstemp failed for " + path_);
        std::size_t done = 0;
        while (done < contents.size()) {
            const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
            if (n <= 0) {
                ::close(fd);
                ::unlink(path_.c_str());
                throw std::runtime_error("cannot write " + path_);
            }
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() { ::unlink(path_.c_str()); }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

} // namespace trueno::test
