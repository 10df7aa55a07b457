#include "error.hpp"

#include <cerrno>
#include <cstring>

namespace raind {

SystemError::SystemError(std::string_view what, int err)
    : Error(std::string(what) + ": " + std::strerror(err)), code_(err) {}

void throw_errno(std::string_view what) { throw SystemError(what, errno); }
void throw_errno(std::string_view what, int err) { throw SystemError(what, err); }

} // namespace raind
