// Where trueno-zramd's log goes: to the journal, each line with its priority, when systemd
// connected stderr to the journal; else to stderr, with a time and colours on a terminal.
#pragma once

#include <string>

namespace trueno::service {

// True when fd is the stream that journal_stream (the JOURNAL_STREAM variable, "DEVICE:INODE")
// names. A process whose stderr was redirected keeps the variable but loses the match.
bool is_journal_stream(int fd, const char* journal_stream);

// Makes "trueno-zramd" the default logger, at level (trace, debug, info, warn, ...).
void setup_logging(const std::string& level);

} // namespace trueno::service
