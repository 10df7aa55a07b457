#include "container_rootfs.hpp"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "error.hpp"
#include "log.hpp"

namespace condenser {
namespace {

// Overlay option values cannot hold the separators of the option string itself.
void check_path(const std::filesystem::path& path) {
    if (path.string().find_first_of(":,") != std::string::npos)
        throw raind::Error("overlay layer path " + path.string() + " contains ':' or ','");
}

} // namespace

OverlayRootfs::OverlayRootfs(const std::vector<std::filesystem::path>& lower, const std::filesystem::path& upper,
                             const std::filesystem::path& work, const std::filesystem::path& target)
    : target_(target) {
    if (lower.empty())
        throw raind::Error("overlay on " + target.string() + ": the image has no layers");
    std::string options = "lowerdir=";
    for (size_t i = 0; i < lower.size(); ++i) {
        check_path(lower[i]);
        options += (i ? ":" : "") + lower[i].string();
    }
    check_path(upper);
    check_path(work);
    options += ",upperdir=" + upper.string() + ",workdir=" + work.string();
    // The kernel takes at most one page of mount data.
    if (options.size() >= static_cast<size_t>(::sysconf(_SC_PAGESIZE)))
        throw raind::Error("overlay on " + target.string() + ": " + std::to_string(lower.size()) +
                           " layers do not fit in one mount option page");
    std::filesystem::create_directories(upper);
    std::filesystem::create_directories(work);
    std::filesystem::create_directories(target);
    if (::mount("overlay", target.c_str(), "overlay", 0, options.c_str()) != 0)
        raind::throw_errno("mount overlay on " + target.string());
    mounted_ = true;
}

OverlayRootfs::~OverlayRootfs() {
    if (!mounted_)
        return;
    try {
        unmount_rootfs(target_);
    } catch (const std::exception& e) {
        raind::log::error(e.what());
    }
}

bool unmount_rootfs(const std::filesystem::path& target) {
    if (::umount2(target.c_str(), UMOUNT_NOFOLLOW) == 0)
        return true;
    if (errno == EINVAL || errno == ENOENT)
        return false; // not a mount point (any more)
    if (errno == EBUSY && ::umount2(target.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
        return true;
    raind::throw_errno("unmount " + target.string());
}

} // namespace condenser
