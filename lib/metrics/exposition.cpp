// OpenMetrics and Prometheus text rendering of the metric families (metric_families.cpp).
#include "trueno/metrics/exposition.hpp"

#include <optional>
#include <vector>

#include "metric_families.hpp"

namespace trueno::metrics {
namespace {

std::string_view type_name(MetricType type, Exposition format) {
    switch (type) {
    case MetricType::Counter:
        return "counter";
    case MetricType::Gauge:
        return "gauge";
    case MetricType::Info:
        return format == Exposition::OpenMetrics ? "info" : "gauge"; // 0.0.4 has no info type
    }
    return "unknown";
}

// The sample's name: counters end in _total and info metrics in _info, in both formats.
std::string sample_name(const MetricFamily& f) {
    std::string name(f.name);
    if (f.type == MetricType::Counter)
        name += "_total";
    else if (f.type == MetricType::Info)
        name += "_info";
    return name;
}

// HELP text escapes backslash and newline in both formats.
std::string escape_help(std::string_view help) {
    std::string out;
    for (char c : help) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

} // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string render(std::span<const DeviceAttributes> devices, Exposition format) {
    std::string out;
    for (const auto& family : metric_families()) {
        std::vector<std::pair<const DeviceAttributes*, SampleValue>> samples;
        for (const auto& d : devices)
            if (auto v = family.value(d.attributes))
                samples.emplace_back(&d, std::move(*v));
        if (samples.empty())
            continue;
        const std::string sample = sample_name(family);
        // OpenMetrics describes the family; the 0.0.4 text format describes the sample name.
        const std::string described = format == Exposition::OpenMetrics ? std::string(family.name) : sample;
        out += "# HELP " + described + " " + escape_help(family.help) + "\n";
        out += "# TYPE " + described + " " + std::string(type_name(family.type, format)) + "\n";
        if (format == Exposition::OpenMetrics && !family.unit.empty())
            out += "# UNIT " + described + " " + std::string(family.unit) + "\n";
        for (const auto& [device, v] : samples) {
            out += sample + "{device=\"" + escape_label_value(device->device) + "\"";
            if (!v.extra_label_name.empty())
                out += "," + v.extra_label_name + "=\"" + escape_label_value(v.extra_label_value) + "\"";
            out += "} " + v.value + "\n";
        }
    }
    if (format == Exposition::OpenMetrics)
        out += "# EOF\n";
    return out;
}

} // namespace trueno::metrics
