// A container's directory <state>/containers/<id>/: the OCI bundle droplet-shim runs
// (config.json, rootfs = overlay mount) and the overlay's upper and work directories.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "container_spec.hpp"
#include "image_config.hpp"

namespace condenser {

// Creates the directory, mounts the rootfs over `lower_dirs` (top first) and writes
// config.json. All or nothing: on any failure the mount and the directory are gone again.
// `adjust` may change config.json before it is written (the container's options).
// Returns the bundle directory.
std::filesystem::path create_bundle(const std::filesystem::path& containers_dir,
                                    const std::vector<std::filesystem::path>& lower_dirs,
                                    const raind::images::ImageConfig& image, ContainerRequest request,
                                    const std::function<void(nlohmann::json&)>& adjust = {});

// Unmounts the rootfs and removes the directory; nothing there is fine. Throws when the
// mount cannot be undone (the directory is then kept, so no layer is ever deleted through it).
void remove_bundle(const std::filesystem::path& containers_dir, const std::string& id);

} // namespace condenser
