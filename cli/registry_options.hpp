// What the CLI sends as a registry call's options: credentials from the user's auth file
// (raind login), the platform, and whether TLS may be skipped.
//
// The auth file is the caller's, never the daemon's, so each user's logins stay theirs:
// --authfile, else $REGISTRY_AUTH_FILE, else for root /run/containers/0/auth.json, else
// $XDG_RUNTIME_DIR/containers/auth.json, else ~/.config/containers/auth.json (podman's places).
#pragma once

#include <sdbus-c++/Types.h>

#include <filesystem>
#include <map>
#include <string>

namespace raind::cli {

struct RegistryFlags {
    std::string authfile;
    bool tls_verify = true;
    std::string platform;
};

std::filesystem::path auth_file_path(const std::string& explicit_path);

// Options a{sv} for a call that reaches `registry` ("127.0.0.1:5000", "docker.io").
std::map<std::string, sdbus::Variant> registry_call_options(const std::string& registry, const RegistryFlags& flags);

// The registry part of an image reference as the daemon will read it ("busybox" -> docker.io).
std::string registry_of(const std::string& reference);

} // namespace raind::cli
