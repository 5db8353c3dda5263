#include "daemon_logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "journal_sink.hpp"

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
    // Without the journal's own socket, stderr still reaches it (or the terminal), unprioritised.
    std::shared_ptr<JournalSink> journal;
    if (is_journal_stream(STDERR_FILENO, std::getenv("JOURNAL_STREAM")))
        if (auto opened = JournalSink::open("trueno-zramd"))
            journal = *opened;
    if (journal) {
        // Each entry with its line's priority, so that journalctl -p err finds the errors. The
        // journal stamps the time itself.
        logger = std::make_shared<spdlog::logger>("trueno-zramd", journal);
    } else {
        logger = spdlog::stderr_color_mt("trueno-zramd");
        logger->set_pattern("%H:%M:%S.%e %^%l%$: %v");
    }
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
}

} // namespace trueno::service
