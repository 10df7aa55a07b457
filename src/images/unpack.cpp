#include "unpack.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fd.hpp"
#include "store.hpp"

namespace fs = std::filesystem;

namespace raind::images {

namespace {

// libarchive leaves the string NULL for some failures (a read callback that gave up).
std::string error_text(archive* a) {
    const char* text = archive_error_string(a);
    return text ? text : "libarchive gave no reason";
}

constexpr std::string_view whiteout_prefix = ".wh.";
constexpr std::string_view opaque_marker = ".wh..wh..opq";

struct ArchiveDeleter {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// The uncompressed stream, hashed on its way to the tar reader so every byte of the tar,
// padding included, counts for the diff_id. Exceptions must not cross libarchive's C code: they
// wait in `error` until it has given up.
struct RawStream {
    DecompressedStream* in = nullptr;
    Sha256 hash;
    uint64_t size = 0;
    std::stop_token stop;
    bool cancelled = false;
    std::exception_ptr error;

    la_ssize_t read(const void** out) {
        if (stop.stop_requested()) {
            cancelled = true;
            return -1;
        }
        try {
            size_t n = in->read(out);
            hash.update(*out, n);
            size += n;
            return static_cast<la_ssize_t>(n);
        } catch (...) {
            error = std::current_exception();
            return -1;
        }
    }
    void rethrow() const {
        if (cancelled)
            throw Cancelled();
        if (error)
            std::rethrow_exception(error);
    }
};

la_ssize_t read_callback(archive*, void* ctx, const void** out) { return static_cast<RawStream*>(ctx)->read(out); }

class Unpacker {
public:
    Unpacker(std::string name, const fs::path& dir) : archive_(std::move(name)) {
        root_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!root_)
            throw_errno("open layer directory " + dir.string());
        privileged_ = ::geteuid() == 0;
        euid_ = ::geteuid();
        egid_ = ::getegid();
    }

    void entry(archive* tar, archive_entry* e) {
        const char* p = archive_entry_pathname(e);
        raw_ = p ? p : "";
        auto parts = split(raw_, "path");
        if (parts.empty()) { // "./": the layer root itself
            if (archive_entry_filetype(e) == AE_IFDIR) {
                apply_metadata(root_.get(), e, false);
                dir_times_.emplace_back(parts, archive_entry_mtime(e));
            }
            return;
        }
        std::string name = parts.back();
        parts.pop_back();
        int parent = parent_of(parts);

        if (name == opaque_marker) {
            set_opaque(parent);
            return;
        }
        if (name.rfind(whiteout_prefix, 0) == 0) {
            std::string target = name.substr(whiteout_prefix.size());
            if (target.rfind(".wh.", 0) == 0) // other AUFS metadata (.wh..wh.plnk…) has no overlay meaning
                return;
            if (target.empty() || target == "." || target == "..")
                fail("invalid whiteout name");
            make_whiteout(parent, target);
            return;
        }

        if (const char* link = archive_entry_hardlink(e)) {
            make_hardlink(parent, name, link);
            return;
        }
        switch (archive_entry_filetype(e)) {
        case AE_IFDIR:
            make_directory(parent, name, e);
            parts.push_back(name);
            dir_times_.emplace_back(std::move(parts), archive_entry_mtime(e));
            break;
        case AE_IFREG:
            make_file(tar, parent, name, e);
            break;
        case AE_IFLNK:
            make_symlink(parent, name, e);
            break;
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO:
            make_node(parent, name, e);
            break;
        default: // sockets have no meaning in an image
            break;
        }
    }

    // Directory times last: creating their entries changed them. Best effort, as for tar(1).
    void finish() {
        for (auto& [parts, mtime] : dir_times_) {
            try {
                UniqueFd fd = walk(parts, false);
                timespec times[2] = {{mtime, 0}, {mtime, 0}};
                ::futimens(fd.get(), times);
            } catch (const Error&) {
                // replaced by a later entry
            }
        }
    }

private:
    [[noreturn]] void fail(const std::string& why) const {
        throw UnsafeLayerEntry("layer " + archive_ + ": entry \"" + raw_ + "\": " + why);
    }
    [[noreturn]] void fail_errno(const std::string& what) const {
        throw SystemError("layer " + archive_ + ": entry \"" + raw_ + "\": " + what, errno);
    }

    // "./a//b/" -> {a, b}; absolute paths and ".." are refused, not cleaned up, because an
    // image that contains them was made to attack whoever unpacks it.
    std::vector<std::string> split(const std::string& path, const char* what) const {
        if (!path.empty() && path.front() == '/')
            fail(std::string(what) + " is absolute");
        std::vector<std::string> parts;
        size_t start = 0;
        while (start <= path.size()) {
            size_t end = path.find('/', start);
            if (end == std::string::npos)
                end = path.size();
            std::string c = path.substr(start, end - start);
            if (c == "..")
                fail(std::string(what) + " contains \"..\" and would leave the layer directory");
            if (!c.empty() && c != ".")
                parts.push_back(c);
            start = end + 1;
        }
        return parts;
    }

    // Opens the directory `parts` below the root, never following a symlink; creates missing
    // directories when `create` (tars may omit parent entries).
    UniqueFd walk(const std::vector<std::string>& parts, bool create) const {
        UniqueFd cur(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
        std::string so_far;
        for (const auto& c : parts) {
            so_far += (so_far.empty() ? "" : "/") + c;
            int fd = ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0 && errno == ENOENT && create) {
                if (::mkdirat(cur.get(), c.c_str(), 0755) < 0 && errno != EEXIST)
                    fail_errno("create directory \"" + so_far + "\"");
                fd = ::openat(cur.get(), c.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            }
            if (fd < 0) {
                struct stat st {};
                if ((errno == ELOOP || errno == ENOTDIR) && ::fstatat(cur.get(), c.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISLNK(st.st_mode))
                    fail("goes through symlink \"" + so_far + "\"");
                if (errno == ENOTDIR)
                    fail("goes through \"" + so_far + "\", which is not a directory");
                fail_errno("open directory \"" + so_far + "\"");
            }
            cur.reset(fd);
        }
        return cur;
    }

    // The directory the entry goes into. Layers list many entries per directory (busybox: 270
    // links in bin/), so the last one stays open instead of being walked to for every entry.
    int parent_of(const std::vector<std::string>& parts) {
        if (parent_ && !parent_stale_ && parts == parent_parts_)
            return parent_.get();
        UniqueFd fd = walk(parts, true);
        struct stat st {};
        if (::fstat(fd.get(), &st) < 0)
            fail_errno("stat its directory");
        parent_parts_ = parts;
        parent_setgid_ = (st.st_mode & S_ISGID) != 0;
        parent_gid_ = st.st_gid;
        parent_ = std::move(fd);
        parent_stale_ = false;
        return parent_.get();
    }

    // Whether something this entry just created in the current parent already has the entry's
    // owner (we made it: our uid, and our gid or a set-group-id parent's), so chown can be skipped.
    bool born_owned(archive_entry* e) const {
        return archive_entry_uid(e) == static_cast<la_int64_t>(euid_) &&
               archive_entry_gid(e) == static_cast<la_int64_t>(parent_setgid_ ? parent_gid_ : egid_);
    }

    // Tries to create the entry; when the name is taken, clears it (a later entry replaces an
    // earlier one) and tries once more. Creating first saves a stat for the usual, new name.
    template <typename Create>
    void create(int parent, const std::string& name, const char* what, Create make) {
        if (make() == 0)
            return;
        if (errno != EEXIST)
            fail_errno(what);
        clear(parent, name, false);
        if (make() != 0)
            fail_errno(what);
    }

    // Later entries replace earlier ones; a directory stays when a directory replaces it.
    void clear(int parent, const std::string& name, bool keep_directory) {
        struct stat st {};
        if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
            if (errno == ENOENT)
                return;
            fail_errno("stat");
        }
        if (S_ISDIR(st.st_mode)) {
            if (keep_directory)
                return;
            parent_stale_ = true; // the next entry walks again: its parent may have been in there
            std::error_code ec;
            fs::remove_all(fs::path("/proc/self/fd") / std::to_string(parent) / name, ec);
            if (ec)
                throw SystemError("layer " + archive_ + ": entry \"" + raw_ + "\": remove existing directory", ec.value());
        } else if (::unlinkat(parent, name.c_str(), 0) < 0) {
            fail_errno("remove existing entry");
        }
    }

    void set_opaque(int dir) const {
        if (::fsetxattr(dir, "trusted.overlay.opaque", "y", 1, 0) < 0)
            fail_errno("set trusted.overlay.opaque");
    }

    void make_whiteout(int parent, const std::string& target) {
        clear(parent, target, false);
        if (::mknodat(parent, target.c_str(), S_IFCHR | 0000, makedev(0, 0)) < 0)
            fail_errno("create overlay whiteout for \"" + target + "\"");
    }

    void make_directory(int parent, const std::string& name, archive_entry* e) {
        bool fresh = ::mkdirat(parent, name.c_str(), 0700) == 0;
        if (!fresh) {
            if (errno != EEXIST)
                fail_errno("mkdir");
            clear(parent, name, true);
            fresh = ::mkdirat(parent, name.c_str(), 0700) == 0;
            if (!fresh && errno != EEXIST)
                fail_errno("mkdir");
        }
        UniqueFd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!fd)
            fail_errno("open directory");
        apply_metadata(fd.get(), e, fresh);
    }

    void make_file(archive* tar, int parent, const std::string& name, archive_entry* e) {
        UniqueFd fd;
        create(parent, name, "create file", [&] {
            fd.reset(::openat(parent, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
            return fd ? 0 : -1;
        });
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        int r;
        while ((r = archive_read_data_block(tar, &block, &size, &offset)) == ARCHIVE_OK) {
            auto p = static_cast<const char*>(block);
            while (size) {
                ssize_t n = ::pwrite(fd.get(), p, size, offset);
                if (n < 0) {
                    if (errno == EINTR)
                        continue;
                    fail_errno("write");
                }
                p += n;
                size -= static_cast<size_t>(n);
                offset += n;
            }
        }
        if (r != ARCHIVE_EOF)
            throw Error("layer " + archive_ + ": entry \"" + raw_ + "\": " + error_text(tar));
        // Sparse files end in a hole the data blocks do not cover.
        if (::ftruncate(fd.get(), archive_entry_size(e)) < 0)
            fail_errno("truncate");
        apply_metadata(fd.get(), e, true);
    }

    void make_symlink(int parent, const std::string& name, archive_entry* e) {
        const char* target = archive_entry_symlink(e);
        // The target is only text here; it is resolved inside the container's root, never by us.
        create(parent, name, "create symlink", [&] { return ::symlinkat(target ? target : "", parent, name.c_str()); });
        if (privileged_ && !born_owned(e) && ::fchownat(parent, name.c_str(), archive_entry_uid(e), archive_entry_gid(e),
                                      AT_SYMLINK_NOFOLLOW) < 0)
            fail_errno("chown symlink");
        timespec times[2] = {{archive_entry_mtime(e), 0}, {archive_entry_mtime(e), 0}};
        ::utimensat(parent, name.c_str(), times, AT_SYMLINK_NOFOLLOW);
    }

    void make_hardlink(int parent, const std::string& name, const char* link) {
        auto target = split(link, "hardlink target");
        if (target.empty())
            fail("hardlink target is the layer directory");
        std::string target_name = target.back();
        target.pop_back();
        UniqueFd target_parent = walk(target, false);
        struct stat st {};
        if (::fstatat(target_parent.get(), target_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0)
            fail_errno("hardlink target \"" + std::string(link) + "\"");
        if (S_ISDIR(st.st_mode))
            fail("hardlink target \"" + std::string(link) + "\" is a directory");
        // Without AT_SYMLINK_FOLLOW a link to a symlink is a second symlink, never its target.
        create(parent, name, ("link to \"" + std::string(link) + "\"").c_str(),
               [&] { return ::linkat(target_parent.get(), target_name.c_str(), parent, name.c_str(), 0); });
    }

    void make_node(int parent, const std::string& name, archive_entry* e) {
        clear(parent, name, false);
        mode_t type = archive_entry_filetype(e) == AE_IFCHR ? S_IFCHR : archive_entry_filetype(e) == AE_IFBLK ? S_IFBLK : S_IFIFO;
        if (::mknodat(parent, name.c_str(), type | (archive_entry_perm(e) & 07777), archive_entry_rdev(e)) < 0) {
            if (errno == EPERM && type != S_IFIFO) // devices need CAP_MKNOD; skipped like rootless podman does
                return;
            fail_errno("create device node");
        }
        if (privileged_ && ::fchownat(parent, name.c_str(), archive_entry_uid(e), archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
            fail_errno("chown");
        ::fchmodat(parent, name.c_str(), archive_entry_perm(e) & 07777, 0);
    }

    // Owner before mode: chown clears set-id bits. `fresh`: this entry just created it.
    void apply_metadata(int fd, archive_entry* e, bool fresh) const {
        if (privileged_ && !(fresh && born_owned(e)) && ::fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0)
            fail_errno("chown");
        if (::fchmod(fd, archive_entry_perm(e) & 07777) < 0)
            fail_errno("chmod");
        archive_entry_xattr_reset(e);
        const char* key = nullptr;
        const void* value = nullptr;
        size_t size = 0;
        while (archive_entry_xattr_next(e, &key, &value, &size) == ARCHIVE_OK) {
            std::string_view k = key;
            // overlay's own attributes would let a layer forge opaque dirs or redirects.
            if (k.rfind("trusted.overlay.", 0) == 0)
                continue;
            if (::fsetxattr(fd, key, value, size, 0) < 0 && errno != EPERM && errno != ENOTSUP)
                fail_errno("set xattr " + std::string(k));
        }
        if (archive_entry_filetype(e) != AE_IFDIR) {
            timespec times[2] = {{archive_entry_atime(e), 0}, {archive_entry_mtime(e), 0}};
            ::futimens(fd, times);
        }
    }

    std::string archive_;
    std::string raw_;
    UniqueFd root_;
    bool privileged_ = false;
    uid_t euid_ = 0;
    gid_t egid_ = 0;
    UniqueFd parent_;
    std::vector<std::string> parent_parts_;
    bool parent_setgid_ = false, parent_stale_ = false;
    gid_t parent_gid_ = 0;
    std::vector<std::pair<std::vector<std::string>, time_t>> dir_times_;
};

} // namespace

namespace {

UnpackResult unpack_from(const LayerSource& source, const std::string& name, const fs::path& dir,
                         std::stop_token stop) {
    DecompressedStream decompressed(source, name);
    RawStream stream;
    stream.in = &decompressed;
    stream.stop = stop;
    ArchivePtr tar(archive_read_new());
    if (!tar)
        throw Error("libarchive: out of memory");
    archive_read_support_format_tar(tar.get());
    if (archive_read_open(tar.get(), &stream, nullptr, read_callback, nullptr) != ARCHIVE_OK) {
        stream.rethrow();
        throw Error("layer " + name + ": not a tar archive: " + error_text(tar.get()));
    }

    Unpacker unpacker(name, dir);
    archive_entry* e = nullptr;
    int r;
    while ((r = archive_read_next_header(tar.get(), &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
        if (stop.stop_requested())
            throw Cancelled();
        try {
            unpacker.entry(tar.get(), e);
        } catch (const Error&) {
            stream.rethrow(); // a file's data ended because the stream did: say why
            throw;
        }
    }
    stream.rethrow();
    if (r != ARCHIVE_EOF)
        throw Error("layer " + name + ": damaged archive: " + error_text(tar.get()));
    unpacker.finish();
    // The tar reader stops at the end-of-archive blocks; the rest of the stream still counts.
    const void* unused = nullptr;
    la_ssize_t n;
    while ((n = stream.read(&unused)) > 0) {
    }
    stream.rethrow();
    decompressed.drain();
    return {stream.hash.finish(), stream.size};
}

} // namespace

UnpackResult unpack_layer(const fs::path& archive_path, const fs::path& dir, std::stop_token stop) {
    UniqueFd fd(::open(archive_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("open layer " + archive_path.string());
    std::vector<char> buffer(256 * 1024);
    LayerSource file = [&](const void** data) -> size_t {
        while (true) {
            ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                throw_errno("read layer " + archive_path.string());
            *data = buffer.data();
            return static_cast<size_t>(n);
        }
    };
    return unpack_from(file, archive_path.string(), dir, stop);
}

UnpackResult unpack_layer(const LayerSource& source, const std::string& name, const fs::path& dir,
                          std::stop_token stop) {
    return unpack_from(source, name, dir, stop);
}

} // namespace raind::images
