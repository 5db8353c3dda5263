#pragma once

// The daemon's own memory, as the kernel counts it: what a take-over or a phase of start-up
// allocated is the difference of two readings.

namespace trueno::service {

// The process's RssAnon (kB) from /proc/self/status, 0 if unknown.
unsigned long anonymous_rss_kb();

// How much RssAnon grew since `before` (0 if it shrank): what a step allocated.
unsigned long anonymous_rss_growth_kb(unsigned long before);

} // namespace trueno::service
