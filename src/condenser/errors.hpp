// Named errors of org.raind.Condenser1: every failure a client can see has one.
#pragma once

#include <sdbus-c++/Error.h>

#include <exception>
#include <string>

namespace condenser::errors {

inline constexpr const char* permission_denied = "org.raind.Condenser1.Error.PermissionDenied";
inline constexpr const char* invalid_argument = "org.raind.Condenser1.Error.InvalidArgument";
inline constexpr const char* no_such_image = "org.raind.Condenser1.Error.NoSuchImage";
inline constexpr const char* image_in_use = "org.raind.Condenser1.Error.ImageInUse";
inline constexpr const char* registry = "org.raind.Condenser1.Error.Registry";
inline constexpr const char* digest_mismatch = "org.raind.Condenser1.Error.DigestMismatch";
inline constexpr const char* invalid_image = "org.raind.Condenser1.Error.InvalidImage";
inline constexpr const char* cancelled = "org.raind.Condenser1.Error.Cancelled";
inline constexpr const char* no_such_container = "org.raind.Condenser1.Error.NoSuchContainer";
inline constexpr const char* name_in_use = "org.raind.Condenser1.Error.NameInUse";
inline constexpr const char* container_running = "org.raind.Condenser1.Error.ContainerRunning";
inline constexpr const char* container_not_running = "org.raind.Condenser1.Error.ContainerNotRunning";
inline constexpr const char* internal = "org.raind.Condenser1.Error.Internal";

inline sdbus::Error make(const char* name, const std::string& message) { return sdbus::Error(name, message); }

// The named error for whatever a handler threw (image library errors, sdbus errors, the rest
// as Internal), keeping the library's message, which names the image or registry.
sdbus::Error from_exception(std::exception_ptr error);

} // namespace condenser::errors
