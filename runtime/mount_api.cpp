#include "mount_api.hpp"

#include <fcntl.h>
#include <sys/mount.h>

#include "error.hpp"

namespace droplet {

raind::UniqueFd clone_tree(int dirfd, const std::string& path, bool recursive, const std::string& what) {
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
    if (recursive)
        flags |= AT_RECURSIVE;
    if (path.empty())
        flags |= AT_EMPTY_PATH;
    int fd = open_tree(dirfd, path.c_str(), flags);
    if (fd < 0)
        raind::throw_errno(what);
    return raind::UniqueFd(fd);
}

void attach_tree(int tree_fd, int target_fd, const std::string& what) {
    if (move_mount(tree_fd, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
        raind::throw_errno(what);
}

void set_mount_attributes(int fd, uint64_t set, uint64_t clear, bool recursive, const std::string& what) {
    if (set == 0 && clear == 0)
        return;
    mount_attr attr{};
    attr.attr_set = set;
    attr.attr_clr = clear;
    if (mount_setattr(fd, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
        raind::throw_errno(what);
}

void set_propagation(int fd, unsigned long flags, const std::string& what) {
    mount_attr attr{};
    attr.propagation = flags & ~static_cast<unsigned long>(MS_REC);
    if (mount_setattr(fd, "", AT_EMPTY_PATH | ((flags & MS_REC) ? AT_RECURSIVE : 0), &attr, sizeof attr) < 0)
        raind::throw_errno(what);
}

uint64_t mount_attributes_from_flags(unsigned long flags, bool with_atime) {
    uint64_t attributes = 0;
    if (flags & MS_RDONLY)
        attributes |= MOUNT_ATTR_RDONLY;
    if (flags & MS_NOSUID)
        attributes |= MOUNT_ATTR_NOSUID;
    if (flags & MS_NODEV)
        attributes |= MOUNT_ATTR_NODEV;
    if (flags & MS_NOEXEC)
        attributes |= MOUNT_ATTR_NOEXEC;
    if (flags & MS_NODIRATIME)
        attributes |= MOUNT_ATTR_NODIRATIME;
    if (flags & MS_NOSYMFOLLOW)
        attributes |= MOUNT_ATTR_NOSYMFOLLOW;
    if (with_atime) {
        if (flags & MS_NOATIME)
            attributes |= MOUNT_ATTR_NOATIME;
        else if (flags & MS_STRICTATIME)
            attributes |= MOUNT_ATTR_STRICTATIME;
        else
            attributes |= MOUNT_ATTR_RELATIME;
    }
    return attributes;
}

raind::UniqueFd empty_readonly_tmpfs(const std::string& what) {
    raind::UniqueFd context(fsopen("tmpfs", FSOPEN_CLOEXEC));
    if (!context)
        raind::throw_errno(what + ": fsopen tmpfs");
    if (fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0)
        raind::throw_errno(what + ": create tmpfs");
    int fd = fsmount(context.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (fd < 0)
        raind::throw_errno(what + ": fsmount tmpfs");
    return raind::UniqueFd(fd);
}

} // namespace droplet
