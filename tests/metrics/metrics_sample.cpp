// Prints the sample devices' metrics (tests/metrics/sample_devices.cpp) for promtool-check:
// "openmetrics" or "prometheus" as the only argument.
#include <cstring>
#include <iostream>

#include "sample_devices.hpp"

int main(int argc, char** argv) {
    using trueno::metrics::Exposition;
    if (argc != 2 || (std::strcmp(argv[1], "openmetrics") != 0 && std::strcmp(argv[1], "prometheus") != 0)) {
        std::cerr << "usage: metrics-sample openmetrics|prometheus\n";
        return 2;
    }
    const auto format = std::strcmp(argv[1], "openmetrics") == 0 ? Exposition::OpenMetrics : Exposition::PrometheusText;
    std::cout << trueno::metrics::render(trueno::metrics::testing::sample_devices(), format);
    return std::cout.flush() ? 0 : 1;
}
