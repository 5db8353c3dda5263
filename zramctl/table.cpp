#include "table.hpp"

#include <locale.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cwchar>
#include <optional>

#include <nlohmann/json.hpp>

namespace trueno::zramctl {
namespace {

using Cells = std::vector<std::optional<std::string>>;

std::string hex_escape(unsigned char c)
{
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    return buf;
}

// Control characters would break the layout, so they print as \xNN (as libsmartcols does).
std::string safe_text(const std::string& s)
{
    std::string out;
    for (unsigned char c : s)
        out += (c < 0x20 || c == 0x7f) ? hex_escape(c) : std::string(1, static_cast<char>(c));
    return out;
}

// Raw output separates cells by single blanks, so blanks inside a cell are escaped too.
std::string raw_text(const std::string& s)
{
    std::string out;
    for (unsigned char c : s) {
        if (c <= 0x20 || c == 0x7f || c == '\\')
            out += hex_escape(c);
        else
            out += static_cast<char>(c);
    }
    return out;
}

// Display width in terminal cells, as libsmartcols counts it in a UTF-8 locale: a wide (East
// Asian) character takes two cells, a combining mark none, anything else one; a byte that is
// not UTF-8 one. Measured in C.UTF-8 whatever the process's locale, so the layout does not
// depend on it; without that locale, code points are counted.
std::size_t display_width(const std::string& s)
{
    static const locale_t utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
    if (utf8 == static_cast<locale_t>(nullptr))
        return static_cast<std::size_t>(std::count_if(
            s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
    const locale_t previous = uselocale(utf8);
    std::mbstate_t state{};
    std::size_t cells = 0;
    for (std::size_t i = 0; i < s.size();) {
        wchar_t wc = 0;
        const std::size_t n = std::mbrtowc(&wc, s.data() + i, s.size() - i, &state);
        if (n == static_cast<std::size_t>(-1) || n == static_cast<std::size_t>(-2)) {
            ++cells; // not UTF-8: a cell for the byte, and start afresh after it
            ++i;
            state = std::mbstate_t{};
            continue;
        }
        const int w = ::wcwidth(wc);
        cells += w < 0 ? 1 : static_cast<std::size_t>(w);
        i += n == 0 ? 1 : n;
    }
    uselocale(previous);
    return cells;
}

std::string lowercase(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::vector<Cells> compute_rows(const std::vector<DeviceRecord>& devices, const RenderOptions& o)
{
    std::vector<Cells> rows;
    rows.reserve(devices.size());
    for (const auto& d : devices) {
        Cells cells;
        for (auto id : o.columns)
            cells.push_back(cell_text(id, d, o.in_bytes));
        rows.push_back(std::move(cells));
    }
    return rows;
}

std::string render_table(const std::vector<Cells>& rows, const RenderOptions& o)
{
    const std::size_t n = o.columns.size();
    std::vector<std::size_t> width(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& info = column_info(o.columns[i]);
        // libsmartcols sizes a column by its heading even when headings are not printed.
        width[i] = std::max(info.min_width, display_width(std::string(info.name)));
        for (const auto& r : rows)
            if (r[i])
                width[i] = std::max(width[i], display_width(safe_text(*r[i])));
    }

    auto line = [&](auto text_of) {
        std::string out;
        for (std::size_t i = 0; i < n; ++i) {
            const std::string text = text_of(i);
            const std::size_t pad = width[i] - std::min(width[i], display_width(text));
            const bool last = i + 1 == n;
            if (i)
                out += ' ';
            if (column_info(o.columns[i]).right_aligned)
                out += std::string(pad, ' ') + text;
            else
                out += text + (last ? std::string{} : std::string(pad, ' '));
        }
        return out + '\n';
    };

    std::string out;
    if (o.headings)
        out += line([&](std::size_t i) { return std::string(column_info(o.columns[i]).name); });
    for (const auto& r : rows)
        out += line([&](std::size_t i) { return r[i] ? safe_text(*r[i]) : std::string{}; });
    return out;
}

std::string render_raw(const std::vector<Cells>& rows, const RenderOptions& o)
{
    std::string out;
    auto emit = [&](auto text_of) {
        for (std::size_t i = 0; i < o.columns.size(); ++i) {
            if (i)
                out += ' ';
            out += text_of(i);
        }
        out += '\n';
    };
    if (o.headings)
        emit([&](std::size_t i) { return std::string(column_info(o.columns[i]).name); });
    for (const auto& r : rows)
        emit([&](std::size_t i) { return r[i] ? raw_text(*r[i]) : std::string{}; });
    return out;
}

std::string json_value(const std::optional<std::string>& cell, ColumnId id, bool in_bytes)
{
    if (!cell)
        return "null";
    const auto kind = column_info(id).json;
    const bool number = kind == JsonKind::Number || (kind == JsonKind::Size && in_bytes);
    if (number)
        return *cell; // cells of numeric columns are validated digits (or a %.4f ratio)
    return nlohmann::json(*cell).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string render_json(const std::vector<Cells>& rows, const RenderOptions& o)
{
    std::string out = "{\n   \"zramdevices\": [\n";
    for (std::size_t r = 0; r < rows.size(); ++r) {
        out += "      {\n";
        for (std::size_t i = 0; i < o.columns.size(); ++i) {
            const auto id = o.columns[i];
            out += "         \"" + lowercase(column_info(id).name) + "\": " + json_value(rows[r][i], id, o.in_bytes);
            out += (i + 1 < o.columns.size()) ? ",\n" : "\n";
        }
        out += (r + 1 < rows.size()) ? "      },\n" : "      }\n";
    }
    out += "   ]\n}\n";
    return out;
}

} // namespace

std::string render(const std::vector<DeviceRecord>& devices, const RenderOptions& options)
{
    const auto rows = compute_rows(devices, options);
    if (rows.empty() && options.format != OutputFormat::Json)
        return {}; // libsmartcols prints nothing, not even headings, for an empty table
    switch (options.format) {
    case OutputFormat::Raw:
        return render_raw(rows, options);
    case OutputFormat::Json:
        return render_json(rows, options);
    case OutputFormat::Table:
        break;
    }
    return render_table(rows, options);
}

} // namespace trueno::zramctl
