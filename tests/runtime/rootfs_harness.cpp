#include "rootfs_harness.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace droplet::test {

namespace {

void write_all(int fd, const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
        ssize_t n = write(fd, text.data() + done, text.size() - done);
        if (n <= 0)
            return;
        done += static_cast<size_t>(n);
    }
}

[[noreturn]] void fail(int fd, const std::string& what) {
    write_all(fd, "error\t" + what + ": " + std::strerror(errno) + "\n");
    _exit(120);
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream file(path);
    file << text;
    if (!file.flush())
        throw std::runtime_error("write " + path);
}

// Values may hold newlines (mountinfo excerpts): escape them on the wire.
std::string escape(const std::string& text) {
    std::string out;
    for (char c : text)
        out += c == '\n' ? std::string("\\n") : c == '\\' ? std::string("\\\\") : std::string(1, c);
    return out;
}

std::string unescape(const std::string& text) {
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
            out += text[i + 1] == 'n' ? '\n' : text[i + 1];
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

} // namespace

void Facts::set(const std::string& key, const std::string& value) { write_all(fd_, key + "\t" + escape(value) + "\n"); }

ChildResult run_isolated(const IsolationOptions& options, const std::function<void(Facts&)>& body) {
    int report[2], ready[2], mapped[2];
    if (pipe2(report, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(mapped, O_CLOEXEC) < 0)
        throw std::runtime_error("pipe");
    pid_t child = fork();
    if (child < 0)
        throw std::runtime_error("fork");
    if (child == 0) {
        close(report[0]);
        close(ready[0]);
        close(mapped[1]);
        const int out = report[1];
        if (options.user_namespace) {
            if (!options.locked_mount.empty()) {
                if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
                    fail(out, "private mount namespace");
                if (mount("tmpfs", options.locked_mount.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=1m") < 0)
                    fail(out, "mount the locked tmpfs");
            }
            if (unshare(CLONE_NEWUSER) < 0)
                fail(out, "unshare user namespace");
            char byte = 1;
            if (write(ready[1], &byte, 1) != 1 || read(mapped[0], &byte, 1) != 1)
                fail(out, "wait for the id maps");
        }
        const int cgroup = options.cgroup_namespace ? CLONE_NEWCGROUP : 0;
        const int network = options.network_namespace ? CLONE_NEWNET : 0;
        if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | cgroup | network) < 0)
            fail(out, "unshare namespaces");
        pid_t init = fork();
        if (init < 0)
            fail(out, "fork the container init");
        if (init == 0) {
            Facts facts(out);
            try {
                body(facts);
            } catch (const std::exception& e) {
                facts.set("error", e.what());
                _exit(1);
            }
            _exit(0);
        }
        int status = 0;
        if (waitpid(init, &status, 0) < 0)
            fail(out, "wait for the container init");
        _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    close(report[1]);
    close(ready[1]);
    close(mapped[0]);
    if (options.user_namespace) {
        char byte = 0;
        if (read(ready[0], &byte, 1) == 1) {
            // Identity map: host root stays root, but every mount inherited from the host is locked.
            const std::string proc = "/proc/" + std::to_string(child);
            write_file(proc + "/uid_map", "0 0 65536\n");
            write_file(proc + "/gid_map", "0 0 65536\n");
        }
        if (write(mapped[1], &byte, 1) != 1) {
        }
    }
    close(ready[0]);
    close(mapped[1]);

    std::string output;
    char buffer[4096];
    ssize_t n;
    while ((n = read(report[0], buffer, sizeof buffer)) > 0)
        output.append(buffer, static_cast<size_t>(n));
    close(report[0]);
    ChildResult result;
    int status = 0;
    waitpid(child, &status, 0);
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
        auto tab = line.find('\t');
        if (tab != std::string::npos)
            result.facts[line.substr(0, tab)] = unescape(line.substr(tab + 1));
    }
    return result;
}

TempRootfs::TempRootfs() {
    char pattern[] = "/tmp/droplet-rootfs-test-XXXXXX";
    if (!mkdtemp(pattern))
        throw std::runtime_error("mkdtemp");
    dir_ = pattern;
    namespace fs = std::filesystem;
    const std::string root = rootfs();
    for (const char* sub : {"bin", "etc", "proc", "sys", "dev", "tmp", "root"})
        fs::create_directories(root + "/" + sub);
    fs::copy_file("/bin/busybox", root + "/bin/busybox");
    for (const char* tool : {"sh", "cat", "ls", "mount", "stat", "readlink", "wc", "grep", "touch", "head", "id"})
        fs::create_symlink("busybox", root + "/bin/" + tool);
    write_file(root + "/etc/hostname", "image\n");
}

TempRootfs::~TempRootfs() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

std::string fs_type(const std::string& path) {
    struct statfs st {};
    if (statfs(path.c_str(), &st) < 0)
        return std::string("error:") + std::strerror(errno);
    switch (st.f_type) {
    case TMPFS_MAGIC:
        return "tmpfs";
    case PROC_SUPER_MAGIC:
        return "proc";
    case SYSFS_MAGIC:
        return "sysfs";
    case DEVPTS_SUPER_MAGIC:
        return "devpts";
    case 0x19800202: // MQUEUE_MAGIC, not in linux/magic.h
        return "mqueue";
    case CGROUP2_SUPER_MAGIC:
        return "cgroup2";
    case EXT4_SUPER_MAGIC:
        return "ext4";
    default:
        return "other";
    }
}

std::string mount_flags(const std::string& path) {
    struct statvfs st {};
    if (statvfs(path.c_str(), &st) < 0)
        return std::string("error:") + std::strerror(errno);
    std::string flags;
    auto add = [&](unsigned long bit, const char* name) {
        if (st.f_flag & bit)
            flags += (flags.empty() ? "" : ",") + std::string(name);
    };
    add(ST_RDONLY, "ro");
    add(ST_NOSUID, "nosuid");
    add(ST_NODEV, "nodev");
    add(ST_NOEXEC, "noexec");
    add(ST_NOATIME, "noatime");
    return flags;
}

std::string device_node(const std::string& path) {
    struct stat st {};
    if (lstat(path.c_str(), &st) < 0)
        return std::string("error:") + std::strerror(errno);
    const char type = S_ISCHR(st.st_mode) ? 'c' : S_ISBLK(st.st_mode) ? 'b' : S_ISFIFO(st.st_mode) ? 'p' : '?';
    char text[64];
    std::snprintf(text, sizeof text, "%c %u:%u %04o %u:%u", type, major(st.st_rdev), minor(st.st_rdev), st.st_mode & 07777,
                  st.st_uid, st.st_gid);
    return text;
}

std::string read_text(const std::string& path, size_t limit) {
    // Bounded: a test that went wrong may be reading /dev/zero.
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::string("error:") + std::strerror(errno);
    std::string content;
    char buffer[4096];
    ssize_t n;
    while (content.size() < limit && (n = read(fd, buffer, std::min(sizeof buffer, limit - content.size()))) > 0)
        content.append(buffer, static_cast<size_t>(n));
    close(fd);
    return content;
}

std::string write_result(const std::string& path) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return std::strerror(errno);
    ssize_t n = write(fd, "x", 1);
    int error = errno;
    close(fd);
    return n == 1 ? "ok" : std::strerror(error);
}

std::string link_target(const std::string& path) {
    char buffer[4096];
    ssize_t n = readlink(path.c_str(), buffer, sizeof buffer);
    return n < 0 ? std::string("error:") + std::strerror(errno) : std::string(buffer, static_cast<size_t>(n));
}

std::string mountinfo_line(const std::string& mount_point) {
    std::ifstream file("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(file, line)) {
        std::istringstream fields(line);
        std::string id, parent, device, root, target;
        fields >> id >> parent >> device >> root >> target;
        if (target == mount_point)
            found = line; // the last one is the visible one
    }
    return found;
}

std::string host_mounts_mentioning(const std::string& needle) {
    std::ifstream file("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(file, line))
        if (line.find(needle) != std::string::npos)
            found += line + "\n";
    return found;
}

} // namespace droplet::test
