// The table of metric families: name, type, unit, help text, and where each value comes from
// in a device's attributes. The only place a metric is named.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "trueno/metrics/exposition.hpp"

namespace trueno::metrics {

enum class MetricType { Counter, Gauge, Info };

// One sample's value text, and the one label beyond device an info metric has (the
// algorithm's name; the renderer escapes its value).
struct SampleValue {
    std::string value;
    std::string extra_label_name;  // empty: none
    std::string extra_label_value;
};

struct MetricFamily {
    std::string_view name; // OpenMetrics family name: ends in its unit, never in _total
    MetricType type;
    std::string_view unit; // "" for plain counts
    std::string_view help;
    std::optional<SampleValue> (*value)(const AttributeMap& attributes);
};

std::span<const MetricFamily> metric_families();

} // namespace trueno::metrics
