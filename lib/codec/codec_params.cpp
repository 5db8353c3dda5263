// parse_codec_params: the kernel's algorithm_params syntax, "level=N dict=PATH".
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>
#include <vector>

#include "shared_dictionary.hpp"
#include "trueno/codec.hpp"

namespace trueno {
namespace {

// Larger than any useful zstd dictionary; stops a typo (dict=/dev/zero-like files) eating memory.
constexpr std::size_t kMaxDictionaryBytes = 64u << 20;

class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

private:
    int fd_;
};

Error file_error(int code, const std::string& path, std::string_view what) {
    return make_error(code, "cannot read dictionary '" + path + "': " + std::string(what));
}

Result<std::vector<std::byte>> read_dictionary(const std::string& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        const int err = errno;
        return file_error(err, path, std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        const int err = errno;
        return file_error(err, path, std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) return file_error(EINVAL, path, "not a regular file");
    if (st.st_size == 0) return file_error(EINVAL, path, "the file is empty");
    if (static_cast<std::size_t>(st.st_size) > kMaxDictionaryBytes)
        return file_error(EINVAL, path, "larger than the 64 MiB limit for a dictionary");

    std::vector<std::byte> bytes(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            return file_error(err, path, std::strerror(err));
        }
        if (n == 0) break; // shrank while we read it: keep what is there
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    if (bytes.empty()) return file_error(EINVAL, path, "the file is empty");
    return bytes;
}

Result<int> parse_level(std::string_view value) {
    int level = 0;
    const char* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, level);
    if (ec == std::errc::result_out_of_range)
        return make_error(EINVAL, "level '" + std::string(value) + "' is out of range");
    if (ec != std::errc{} || ptr != end || value.empty())
        return make_error(EINVAL, "level '" + std::string(value) + "' is not a whole number");
    return level;
}

bool is_separator(char c) { return c == ' ' || c == ',' || c == '\t' || c == '\n'; }

} // namespace

Result<CodecParams> parse_codec_params(std::string_view text) {
    CodecParams params;
    bool have_dict = false;
    std::size_t pos = 0;
    while (pos < text.size()) {
        if (is_separator(text[pos])) {
            ++pos;
            continue;
        }
        std::size_t end = pos;
        while (end < text.size() && !is_separator(text[end])) ++end;
        const std::string_view pair = text.substr(pos, end - pos);
        pos = end;

        const auto eq = pair.find('=');
        if (eq == std::string_view::npos)
            return make_error(EINVAL, "'" + std::string(pair) +
                                          "' is not key=value (expected level=N or dict=PATH)");
        const std::string_view key = pair.substr(0, eq);
        const std::string_view value = pair.substr(eq + 1);
        if (key == "level") {
            if (params.level) return make_error(EINVAL, "level is given twice");
            auto level = parse_level(value);
            if (!level) return level.error();
            params.level = *level;
        } else if (key == "dict") {
            if (have_dict) return make_error(EINVAL, "dict is given twice");
            if (value.empty()) return make_error(EINVAL, "dict= needs a file path");
            have_dict = true;
            params.dict_path = std::string(value);
            auto bytes = read_dictionary(params.dict_path);
            if (!bytes) return bytes.error();
            params.dictionary = codec_detail::make_shared_dictionary(std::move(*bytes));
        } else {
            return make_error(EINVAL, "unknown parameter '" + std::string(key) +
                                          "' (known: level, dict)");
        }
    }
    return params;
}

} // namespace trueno
