// How condenser talks to registries: the daemon-wide file (default /etc/raind/registries.conf)
// plus what one call asks for in its options a{sv}.
//
// registries.conf, one setting per line, '#' starts a comment:
//   insecure = 127.0.0.1:5000        plain HTTP / unverified TLS for that registry (repeatable)
//   cert-dir = /etc/raind/certs.d    <dir>/<host:port>/*.crt trusted for that registry (repeatable;
//                                    /etc/containers/certs.d and /etc/docker/certs.d always are)
//   mirror = docker.io=127.0.0.1:5000
#pragma once

#include <sdbus-c++/Types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "manifest.hpp"
#include "registry.hpp"

namespace condenser {

// Re-read on every call so an edit applies without restarting; a missing file is empty.
// Throws raind::Error naming the file and line of a bad setting.
raind::images::RegistryOptions read_registry_settings(const std::filesystem::path& file);

struct CallOptions {
    std::string platform;                               // "os/arch[/variant]", empty = host
    std::optional<raind::images::Credentials> auth;     // from "auth" (base64 user:password)
    bool insecure = false;
};

// Parses a call's options; throws sdbus::Error InvalidArgument naming an unknown key or a bad value.
CallOptions parse_call_options(const std::map<std::string, sdbus::Variant>& options);

// The same, kept for a worker thread (which must not touch the Variants: they are bus
// messages): get() throws the parse error there, where it becomes the call's reply.
class ParsedOptions {
public:
    explicit ParsedOptions(const std::map<std::string, sdbus::Variant>& options);
    const CallOptions& get() const;

private:
    CallOptions options_;
    std::optional<sdbus::Error> error_;
};

// The daemon-wide settings with the call's options for `registry` applied.
raind::images::RegistryOptions registry_options_for(const std::filesystem::path& file, const std::string& registry,
                                                    const CallOptions& call);

} // namespace condenser
