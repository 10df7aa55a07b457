// The OCI runtime config (config.json) of a container made from an image: Docker's semantics
// for Entrypoint/Cmd/Env/WorkingDir/User, Docker's default capabilities, and the systemd
// cgroup path raind.slice:raind:<id> that droplet --systemd-cgroup turns into raind-<id>.scope.
#pragma once

#include <nlohmann/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "error.hpp"
#include "image_config.hpp"

namespace condenser {

// Bad container options (empty command, malformed env entry, unknown user): the caller's fault.
class InvalidContainerArgument : public raind::Error {
public:
    using raind::Error::Error;
};

struct ContainerRequest {
    std::string id;                   // 64 hex
    std::vector<std::string> command; // replaces the image's Cmd (the Entrypoint stays)
    std::vector<std::string> env;     // "KEY=value", overriding the image's entries by key
    // The mounted rootfs: user and group names are looked up in its /etc/passwd and /etc/group.
    std::filesystem::path rootfs;
};

// The process arguments as Docker computes them: Entrypoint + (command, or else Cmd).
// Throws InvalidContainerArgument when nothing is left to run.
std::vector<std::string> container_args(const raind::images::ImageConfig& image, const std::vector<std::string>& command);

// The image's Env overridden by `overrides` key by key, with a default PATH when neither has one.
std::vector<std::string> container_env(const std::vector<std::string>& image_env, const std::vector<std::string>& overrides);

// "uid[:gid]" or "name[:group]" (names from the rootfs); "" is root.
struct UserIds {
    uint32_t uid = 0;
    uint32_t gid = 0;
};
UserIds resolve_user(const std::string& user, const std::filesystem::path& rootfs);

// config.json for a bundle whose rootfs is <bundle>/rootfs.
nlohmann::json container_spec(const raind::images::ImageConfig& image, const ContainerRequest& request);

} // namespace condenser
