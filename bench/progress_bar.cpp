#include "progress_bar.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace trueno::bench {

ProgressBar::ProgressBar(std::string label, std::uint64_t total, bool enabled)
    : label_(std::move(label)), total_(total), active_(enabled && total > 0 && ::isatty(STDERR_FILENO) == 1) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::update(std::uint64_t done) {
    if (!active_) return;
    int percent = static_cast<int>(std::min<std::uint64_t>(100, done * 100 / total_));
    if (percent == last_percent_) return;
    last_percent_ = percent;
    constexpr int width = 40;
    int filled = percent * width / 100;
    std::fprintf(stderr, "\r%-8s [%.*s%*s] %3d%%", label_.c_str(), filled,
                 "########################################", width - filled, "", percent);
    std::fflush(stderr);
}

void ProgressBar::finish() {
    if (!active_) return;
    update(total_);
    std::fputs("\r\033[K", stderr); // clear the line: the results follow
    std::fflush(stderr);
    active_ = false;
}

} // namespace trueno::bench
