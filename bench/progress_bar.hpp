// A one-line progress bar on stderr, drawn only when stderr is a terminal so that logs and
// pipes (and --json consumers of stdout) never see it.
#pragma once

#include <cstdint>
#include <string>

namespace trueno::bench {

class ProgressBar {
public:
    // Draws nothing unless enabled and stderr is a terminal.
    ProgressBar(std::string label, std::uint64_t total, bool enabled);
    ~ProgressBar();
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    void update(std::uint64_t done);
    void finish();
    bool active() const { return active_; }

private:
    std::string label_;
    std::uint64_t total_;
    bool active_;
    int last_percent_ = -1;
};

} // namespace trueno::bench
