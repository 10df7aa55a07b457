// Errors that carry what failed and why.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace raind {

// A failure with a message a person can act on ("mount /proc on /run/x/rootfs/proc: Permission denied").
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A failed system call: keeps errno so callers can branch on it.
class SystemError : public Error {
public:
    SystemError(std::string_view what, int err);
    int code() const noexcept { return code_; }

private:
    int code_;
};

// Throws SystemError(what, errno).
[[noreturn]] void throw_errno(std::string_view what);
[[noreturn]] void throw_errno(std::string_view what, int err);

} // namespace raind
