#include "process_memory.hpp"

#include <fstream>
#include <string>

namespace trueno::service {

unsigned long anonymous_rss_kb() {
    std::ifstream status("/proc/self/status");
    std::string key;
    unsigned long value = 0;
    while (status >> key) {
        if (key == "RssAnon:" && status >> value)
            return value;
        status.ignore(1 << 10, '\n');
    }
    return 0;
}

unsigned long anonymous_rss_growth_kb(unsigned long before) {
    const unsigned long now = anonymous_rss_kb();
    return now > before ? now - before : 0;
}

} // namespace trueno::service
