#include "tmpcopyup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "error.hpp"
#include "fd.hpp"

namespace droplet {

namespace {

struct DirCloser {
    void operator()(DIR* dir) const noexcept { closedir(dir); }
};

void copy_file(int from_dir, int to_dir, const char* name, mode_t mode, const std::string& what) {
    raind::UniqueFd in(openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!in)
        raind::throw_errno(what + ": open " + name);
    raind::UniqueFd out(openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777));
    if (!out)
        raind::throw_errno(what + ": create " + name);
    for (;;) {
        // sendfile, not copy_file_range: the image and the tmpfs are different filesystems.
        ssize_t copied = sendfile(out.get(), in.get(), nullptr, 1 << 20);
        if (copied == 0)
            return;
        if (copied < 0)
            raind::throw_errno(what + ": copy " + name);
    }
}

void copy_owner_and_mode(int to_dir, const char* name, const struct stat& st, const std::string& what) {
    if (fchownat(to_dir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        raind::throw_errno(what + ": chown " + name);
    if (!S_ISLNK(st.st_mode) && fchmodat(to_dir, name, st.st_mode & 07777, 0) < 0)
        raind::throw_errno(what + ": chmod " + name);
}

} // namespace

void copy_directory_tree(int from_dir, int to_dir, const std::string& what) {
    int listing_fd = openat(from_dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (listing_fd < 0)
        raind::throw_errno(what + ": open directory");
    std::unique_ptr<DIR, DirCloser> listing(fdopendir(listing_fd));
    if (!listing) {
        close(listing_fd);
        raind::throw_errno(what + ": read directory");
    }
    struct stat top {};
    if (fstat(from_dir, &top) == 0) {
        // Best effort: in a user namespace the owner may not be mapped.
        if (fchown(to_dir, top.st_uid, top.st_gid) < 0 || fchmod(to_dir, top.st_mode & 07777) < 0) {
        }
    }
    while (dirent* entry = readdir(listing.get())) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..")
            continue;
        struct stat st {};
        if (fstatat(from_dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            raind::throw_errno(what + ": stat " + name);
        if (S_ISDIR(st.st_mode)) {
            if (mkdirat(to_dir, name.c_str(), 0700) < 0)
                raind::throw_errno(what + ": mkdir " + name);
            raind::UniqueFd from(openat(from_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            raind::UniqueFd to(openat(to_dir, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
            if (!from || !to)
                raind::throw_errno(what + ": open " + name);
            copy_directory_tree(from.get(), to.get(), what);
        } else if (S_ISREG(st.st_mode)) {
            copy_file(from_dir, to_dir, name.c_str(), st.st_mode, what);
        } else if (S_ISLNK(st.st_mode)) {
            std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
            ssize_t length = readlinkat(from_dir, name.c_str(), target.data(), target.size());
            if (length < 0)
                raind::throw_errno(what + ": readlink " + name);
            target.resize(static_cast<size_t>(length));
            if (symlinkat(target.c_str(), to_dir, name.c_str()) < 0)
                raind::throw_errno(what + ": symlink " + name);
        } else if (mknodat(to_dir, name.c_str(), st.st_mode, st.st_rdev) < 0) {
            raind::throw_errno(what + ": mknod " + name);
        }
        copy_owner_and_mode(to_dir, name.c_str(), st, what);
    }
}

} // namespace droplet
