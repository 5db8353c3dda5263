#include "trueno/metrics/textfile_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "trueno/unique_fd.hpp"

namespace trueno::metrics {
namespace {

std::filesystem::path directory_of(const std::filesystem::path& file) {
    return file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
}

Error system_error(int code, const std::string& what) { return make_error(code, what + ": " + std::strerror(code)); }

Status write_all(int fd, std::string_view content) {
    while (!content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return system_error(errno, "write");
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

// Everything up to the rename; the caller removes the temporary file on failure.
Status write_and_sync(const std::filesystem::path& temporary, std::string_view content) {
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd)
        return system_error(errno, "cannot create " + temporary.string());
    // The collector may run as another user (prometheus): readable whatever the umask.
    if (::fchmod(fd.get(), 0644) != 0)
        return system_error(errno, "fchmod " + temporary.string());
    if (auto st = write_all(fd.get(), content); !st)
        return make_error(st.error().code, temporary.string() + ": " + st.error().message);
    if (::fsync(fd.get()) != 0)
        return system_error(errno, "fsync " + temporary.string());
    if (::close(fd.release()) != 0)
        return system_error(errno, "close " + temporary.string());
    return {};
}

} // namespace

Status check_textfile_directory(const std::filesystem::path& file) {
    if (!file.has_filename())
        return make_error(EINVAL, "metrics file " + file.string() + " names a directory, not a file");
    const auto dir = directory_of(file);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        const int code = errno;
        if (code == ENOENT)
            return make_error(ENOENT, "the directory of metrics file " + file.string() + ", " + dir.string() +
                                          ", does not exist (create it, or install prometheus-node-exporter "
                                          "for /var/lib/prometheus/node-exporter/)");
        return system_error(code, "cannot reach the directory " + dir.string() + " of metrics file " + file.string());
    }
    if (!S_ISDIR(st.st_mode))
        return make_error(ENOTDIR, "the directory of metrics file " + file.string() + ", " + dir.string() +
                                       ", is not a directory");
    return {};
}

Status write_textfile(const std::filesystem::path& file, std::string_view content) {
    if (auto st = check_textfile_directory(file); !st)
        return st;
    const auto dir = directory_of(file);
    const auto temporary = dir / ("." + file.filename().string() + ".tmp");
    if (auto st = write_and_sync(temporary, content); !st) {
        ::unlink(temporary.c_str());
        return st;
    }
    if (::rename(temporary.c_str(), file.c_str()) != 0) {
        const int code = errno;
        ::unlink(temporary.c_str());
        return system_error(code, "cannot rename " + temporary.string() + " to " + file.string());
    }
    // The rename itself survives a crash only once the directory is on disk.
    UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir_fd || ::fsync(dir_fd.get()) != 0)
        return system_error(errno, "fsync of directory " + dir.string());
    return {};
}

} // namespace trueno::metrics
