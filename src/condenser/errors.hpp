// Named errors of org.raind.Condenser1: every failure a client can see has one.
#pragma once

#include <sdbus-c++/Error.h>

#include <string>

namespace condenser::errors {

inline constexpr const char* permission_denied = "org.raind.Condenser1.Error.PermissionDenied";
inline constexpr const char* invalid_argument = "org.raind.Condenser1.Error.InvalidArgument";
inline constexpr const char* internal = "org.raind.Condenser1.Error.Internal";

inline sdbus::Error make(const char* name, const std::string& message) { return sdbus::Error(name, message); }

} // namespace condenser::errors
