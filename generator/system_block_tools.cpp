#include "system_block_tools.hpp"

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <spawn.h>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "text_file.hpp"

extern char** environ;

namespace trueno::generator {
namespace {

// First whitespace-separated field of any line equals path (/proc/swaps, /proc/self/mounts).
bool listed_in(const char* file, const std::string& path)
{
    auto text = read_text_file(file);
    if (!text) return false;
    std::istringstream in(*text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string first;
        if (words >> first && first == path) return true;
    }
    return false;
}

Result<std::vector<char>> read_head(const std::string& path, std::size_t n)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return make_error(errno, std::strerror(errno));
    std::vector<char> buf(n);
    ssize_t got = ::pread(fd, buf.data(), n, 0);
    int saved = errno;
    ::close(fd);
    if (got != static_cast<ssize_t>(n)) return make_error(got < 0 ? saved : EIO, "short read");
    return buf;
}

Status run(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
    if (rc != 0) return make_error(rc, "cannot run " + argv[0] + ": " + std::strerror(rc));
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return make_error(errno, "waiting for " + argv[0] + ": " + std::strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
    std::string how = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    return make_error(EIO, argv[0] + " failed (" + how + ")");
}

} // namespace

Status SystemBlockTools::wait_for_node(const std::string& path)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (;;) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISBLK(st.st_mode)) return {};
        if (std::chrono::steady_clock::now() > deadline) return make_error(ETIMEDOUT, "no block device node after 15 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

bool SystemBlockTools::is_active(const std::string& path)
{
    return listed_in("/proc/swaps", path) || listed_in("/proc/self/mounts", path);
}

bool SystemBlockTools::has_signature(const std::string& path, const std::string& fs_type)
{
    if (fs_type == "swap") { // mkswap's signature ends the first page
        auto head = read_head(path, 4096);
        return head && std::memcmp(head->data() + 4096 - 10, "SWAPSPACE2", 10) == 0;
    }
    if (fs_type.starts_with("ext")) { // ext2/3/4 superblock magic 0xEF53 at byte 1080
        auto head = read_head(path, 2048);
        return head && static_cast<unsigned char>((*head)[1080]) == 0x53 && static_cast<unsigned char>((*head)[1081]) == 0xEF;
    }
    return false; // unknown: format again (the device is temporary storage by definition)
}

Status SystemBlockTools::make_filesystem(const std::string& path, const std::string& fs_type)
{
    if (fs_type == "swap") return run({"mkswap", path});
    return run({"mkfs." + fs_type, path});
}

} // namespace trueno::generator
