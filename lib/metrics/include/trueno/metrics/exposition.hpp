// Every device's statistics as metrics text, from the attribute maps that GetAttributes returns
// (kernel zram's names and value formats). trueno-zramctl --metrics and trueno-zramd's textfile
// writer both render through here, so metric names, HELP and units exist in one place only.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

namespace trueno::metrics {

// Attribute name -> value as kernel zram's sysfs file reads.
using AttributeMap = std::map<std::string, std::string>;

// One device: its path ("/dev/ublkb0"), the value of the device label, and its attributes.
struct DeviceAttributes {
    std::string device;
    AttributeMap attributes;
};

enum class Exposition {
    // OpenMetrics 1.0: counter families are named without _total (their samples carry it),
    // UNIT lines, and the "# EOF" terminator. What Prometheus scrapes over HTTP.
    OpenMetrics,
    // Prometheus text format 0.0.4, the one node_exporter's textfile collector parses: HELP and
    // TYPE name the sample itself (counters with _total), no UNIT line, no terminator. The
    // names, help and values are the same as OpenMetrics'.
    PrometheusText,
};

inline constexpr std::string_view kOpenMetricsContentType =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

// The whole text, families in a fixed order, devices in the given order within each family.
// A value a device does not expose (an absent or malformed attribute) is left out for that
// device; a family no device has is left out entirely.
std::string render(std::span<const DeviceAttributes> devices, Exposition format);

// A label value as both formats write it between quotes: \ " and newline escaped.
std::string escape_label_value(std::string_view value);

} // namespace trueno::metrics
