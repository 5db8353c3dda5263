#include "table.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <libsmartcols.h>
#include <locale.h>
#include <memory>
#include <system_error>

namespace trueno::zramctl {
namespace {

// libsmartcols objects are reference counted: each deleter drops the reference we hold.
struct ScolsUnref {
    void operator()(libscols_table* p) const { scols_unref_table(p); }
    void operator()(libscols_column* p) const { scols_unref_column(p); }
    void operator()(libscols_line* p) const { scols_unref_line(p); }
};
template <typename T> using ScolsPtr = std::unique_ptr<T, ScolsUnref>;

struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};

[[noreturn]] void fail(int rc, const char* what) {
    // libsmartcols returns -errno (or NULL with errno set) on failure.
    throw std::system_error(rc < 0 ? -rc : (rc ? rc : ENOMEM), std::generic_category(), what);
}

template <typename T> ScolsPtr<T> adopt(T* p, const char* what) {
    if (!p)
        fail(errno, what);
    return ScolsPtr<T>(p);
}

void check(int rc, const char* what) {
    if (rc != 0)
        fail(rc, what);
}

// An open_memstream() stream and the buffer it fills. The stream writes the buffer's address
// into data_ (and moves it as it grows), so the buffer is freed here rather than by a
// unique_ptr, after the stream is closed.
class MemoryStream {
public:
    MemoryStream() : file_(open_memstream(&data_, &size_)) {
        if (!file_)
            fail(errno, "open_memstream");
    }
    ~MemoryStream() {
        file_.reset();
        std::free(data_);
    }
    MemoryStream(const MemoryStream&) = delete;
    MemoryStream& operator=(const MemoryStream&) = delete;

    std::FILE* get() const { return file_.get(); }

    // Closes the stream, which flushes it: only then are data_ and size_ final.
    std::string finish() {
        if (std::fclose(file_.release()) != 0)
            fail(errno, "writing the table");
        return std::string(data_ ? data_ : "", size_);
    }

private:
    char* data_ = nullptr;
    std::size_t size_ = 0;
    std::unique_ptr<std::FILE, FileCloser> file_; // declared last: opened once data_ is set
};

// libsmartcols measures cells (wcwidth) and escapes what is not printable by the calling
// thread's LC_CTYPE. zramctl runs in the user's locale (setlocale(LC_ALL, "")), which is UTF-8
// nearly everywhere; this tool sets no locale, so it prints in C.UTF-8 whatever the process's
// locale: a wide character takes two cells, and the layout does not depend on the environment.
// Without C.UTF-8, libsmartcols escapes non-ASCII bytes as \xNN (as zramctl does in "C").
class Utf8Ctype {
public:
    Utf8Ctype() {
        // Made once and kept for the process's life: newlocale() is not cheap.
        static const locale_t utf8 =
            newlocale(LC_CTYPE_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
        if (utf8 != static_cast<locale_t>(nullptr))
            previous_ = uselocale(utf8);
    }
    ~Utf8Ctype() {
        if (previous_ != static_cast<locale_t>(nullptr))
            uselocale(previous_);
    }
    Utf8Ctype(const Utf8Ctype&) = delete;
    Utf8Ctype& operator=(const Utf8Ctype&) = delete;

private:
    locale_t previous_ = static_cast<locale_t>(nullptr);
};

// zramctl's width hint: columns.cpp's absolute minimum, except for NAME and MOUNTPOINT, whose
// hints are fractions of the terminal width (they act only on a terminal: see render()).
double width_hint(const ColumnInfo& info) {
    switch (info.id) {
    case ColumnId::Name:
        return 0.25;
    case ColumnId::MountPoint:
        return 0.10;
    default:
        return static_cast<double>(info.min_width);
    }
}

int column_flags(const ColumnInfo& info) {
    int flags = info.right_aligned ? SCOLS_FL_RIGHT : 0;
    if (info.id == ColumnId::MountPoint)
        flags |= SCOLS_FL_TRUNC; // zramctl lets a long mount point be cut on a narrow terminal
    return flags;
}

int json_type(const ColumnInfo& info, bool in_bytes) {
    const bool number = info.json == JsonKind::Number || (info.json == JsonKind::Size && in_bytes);
    return number ? SCOLS_JSON_NUMBER : SCOLS_JSON_STRING;
}

} // namespace

std::string render(const std::vector<DeviceRecord>& devices, const RenderOptions& options) {
    const Utf8Ctype ctype;

    auto table = adopt(scols_new_table(), "scols_new_table");
    // Never sized to a terminal: the output is the same wherever it goes (zramctl would shrink
    // NAME and MOUNTPOINT to fit a narrower terminal).
    check(scols_table_set_termforce(table.get(), SCOLS_TERMFORCE_NEVER),
          "scols_table_set_termforce");
    check(scols_table_enable_raw(table.get(), options.format == OutputFormat::Raw),
          "scols_table_enable_raw");
    check(scols_table_enable_json(table.get(), options.format == OutputFormat::Json),
          "scols_table_enable_json");
    check(scols_table_enable_noheadings(table.get(), !options.headings),
          "scols_table_enable_noheadings");
    check(scols_table_set_name(table.get(), "zramdevices"), "scols_table_set_name"); // the JSON key

    for (const auto id : options.columns) {
        const auto& info = column_info(id);
        auto column = adopt(scols_new_column(), "scols_new_column");
        check(scols_column_set_name(column.get(), std::string(info.name).c_str()),
              "scols_column_set_name");
        check(scols_column_set_whint(column.get(), width_hint(info)), "scols_column_set_whint");
        check(scols_column_set_flags(column.get(), column_flags(info)), "scols_column_set_flags");
        check(scols_column_set_json_type(column.get(), json_type(info, options.in_bytes)),
              "scols_column_set_json_type");
        check(scols_table_add_column(table.get(), column.get()), "scols_table_add_column");
    }

    for (const auto& device : devices) {
        auto line = adopt(scols_new_line(), "scols_new_line");
        check(scols_table_add_line(table.get(), line.get()), "scols_table_add_line");
        for (std::size_t i = 0; i < options.columns.size(); ++i) {
            // No data: an empty cell, null in JSON.
            if (const auto text = cell_text(options.columns[i], device, options.in_bytes))
                check(scols_line_set_data(line.get(), i, text->c_str()), "scols_line_set_data");
        }
    }

    // scols_print_table() as zramctl calls it: unlike scols_print_table_to_string() it ends a
    // non-empty table with a newline.
    MemoryStream out;
    check(scols_table_set_stream(table.get(), out.get()), "scols_table_set_stream");
    const int rc = scols_print_table(table.get());
    check(scols_table_set_stream(table.get(), stdout), "scols_table_set_stream"); // out closes next
    check(rc, "scols_print_table");
    return out.finish();
}

} // namespace trueno::zramctl
