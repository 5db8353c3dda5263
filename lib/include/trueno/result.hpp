// Typed results at the library boundary: a value or an Error (errno code + message), or another
// error type where callers need more than that (the zram client's CallError).
// C++20 has no std::expected; this is the small subset the project needs.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace trueno {

// An error as the kernel would report it (positive errno) with a human-readable message.
struct Error {
    int code = EINVAL;
    std::string message;
};

inline Error make_error(int code, std::string message) { return Error{code, std::move(message)}; }

// "ENOENT (No such file or directory)": the name a reader can search for, and its text.
inline std::string errno_text(int code) {
    const char* name = strerrorname_np(code);
    return std::string(name ? name : std::to_string(code).c_str()) + " (" + std::strerror(code) +
           ")";
}

// A failed system call's error: "what: ENOENT (No such file or directory)". Pass errno as
// `code` (read before anything else can change it).
inline Error errno_error(int code, const std::string& what) {
    return make_error(code, what + ": " + errno_text(code));
}

template <typename T, typename E = Error> class [[nodiscard]] Result {
public:
    Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
    Result(E error) : state_(std::in_place_index<1>, std::move(error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { return std::get<0>(state_); }
    const T& value() const& { return std::get<0>(state_); }
    T&& value() && { return std::get<0>(std::move(state_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const E& error() const { return std::get<1>(state_); }

private:
    std::variant<T, E> state_;
};

template <typename E> class [[nodiscard]] Result<void, E> {
public:
    Result() = default;
    Result(E error) : error_(std::move(error)), failed_(true) {}

    bool ok() const { return !failed_; }
    explicit operator bool() const { return ok(); }
    const E& error() const { return error_; }

private:
    E error_{};
    bool failed_ = false;
};

using Status = Result<void>;

} // namespace trueno
