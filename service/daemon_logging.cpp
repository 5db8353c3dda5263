#include "daemon_logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

namespace trueno::service {

bool is_journal_stream(int fd, const char* journal_stream) {
    if (journal_stream == nullptr)
        return false;
    unsigned long long device = 0;
    unsigned long long inode = 0;
    char rest = 0;
    if (std::sscanf(journal_stream, "%llu:%llu%c", &device, &inode, &rest) != 2)
        return false;
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return false;
    return st.st_dev == device && st.st_ino == inode;
}

void setup_logging(const std::string& level) {
    std::shared_ptr<spdlog::logger> logger;
    if (is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM"))) {
        // Through stderr every line would get the unit's one priority, and journalctl -p err
        // would find nothing. The journal stamps the time and the identifier itself.
        logger = spdlog::systemd_logger_mt("trueno-zramd", "trueno-zramd");
    } else {
        logger = spdlog::stderr_color_mt("trueno-zramd");
        logger->set_pattern("%H:%M:%S.%e %^%l%$: %v");
    }
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
}

} // namespace trueno::service
