#include "registry_options.hpp"

#include <unistd.h>

#include <cstdlib>

#include "auth.hpp"
#include "reference.hpp"

namespace raind::cli {

std::filesystem::path auth_file_path(const std::string& explicit_path) {
    if (!explicit_path.empty())
        return explicit_path;
    if (const char* env = std::getenv("REGISTRY_AUTH_FILE"); env && *env)
        return env;
    if (::getuid() == 0)
        return "/run/containers/0/auth.json";
    if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && *runtime)
        return std::filesystem::path(runtime) / "containers" / "auth.json";
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home ? home : "/") / ".config" / "containers" / "auth.json";
}

std::map<std::string, sdbus::Variant> registry_call_options(const std::string& registry, const RegistryFlags& flags) {
    std::map<std::string, sdbus::Variant> options;
    if (!flags.tls_verify)
        options["insecure"] = sdbus::Variant(true);
    if (!flags.platform.empty())
        options["platform"] = sdbus::Variant(flags.platform);
    if (auto credentials = images::AuthFile(auth_file_path(flags.authfile)).get(registry))
        options["auth"] = sdbus::Variant(images::base64_encode(credentials->username + ":" + credentials->password));
    return options;
}

std::string registry_of(const std::string& reference) { return images::Reference::parse(reference).registry; }

} // namespace raind::cli
