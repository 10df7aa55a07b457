// A container's root filesystem: an overlay of the image's layers (read-only, shared with
// every container of the image) under the container's own upper and work directories.
#pragma once

#include <filesystem>
#include <vector>

namespace condenser {

class OverlayRootfs {
public:
    // Mounts overlay on `target` (created if missing) with lowerdir = `lower` (top layer first,
    // as Store::lower_dirs returns them), upperdir `upper`, workdir `work` (both created, and
    // on the same filesystem as each other). Throws raind::SystemError naming the target.
    OverlayRootfs(const std::vector<std::filesystem::path>& lower, const std::filesystem::path& upper,
                  const std::filesystem::path& work, const std::filesystem::path& target);
    ~OverlayRootfs(); // unmounts unless released; never throws
    OverlayRootfs(const OverlayRootfs&) = delete;
    OverlayRootfs& operator=(const OverlayRootfs&) = delete;

    const std::filesystem::path& target() const noexcept { return target_; }
    // Keeps the mount past this object (the container runs on it; removal unmounts it then).
    void release() noexcept { mounted_ = false; }

private:
    std::filesystem::path target_;
    bool mounted_ = false;
};

// Unmounts an overlay rootfs a released OverlayRootfs (or a crashed condenser) left; lazily if
// it is busy. False when nothing was mounted there.
bool unmount_rootfs(const std::filesystem::path& target);

} // namespace condenser
