// A temporary file for tests, removed when it goes out of scope.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <span>
#include <stdexcept>
#include <string>

namespace trueno::bench::test {

class TempFile {
public:
    explicit TempFile(std::span<const std::byte> contents) {
        std::string pattern = "/tmp/trueno-bench-test-XXXXXX";
        int fd = ::mkstemp(pattern.data());
        if (fd < 0) throw std::runtime_error("mkstemp failed");
        path_ = pattern;
        std::size_t done = 0;
        while (done < contents.size()) {
            ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
            if (n <= 0) {
                ::close(fd);
                throw std::runtime_error("writing the temporary file failed");
            }
            done += static_cast<std::size_t>(n);
        }
        ::close(fd);
    }
    ~TempFile() { ::unlink(path_.c_str()); }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

} // namespace trueno::bench::test
