// The cgroupfs driver: droplet makes the container's cgroup v2 directory, enables the
// controllers it needs in the ancestors, writes the limit files and attaches the device program.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "cgroup_drivers.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "file_util.hpp"
#include "log.hpp"

namespace droplet {
namespace {

std::set<std::string> read_words(const std::string& path) {
    std::ifstream in(path);
    std::set<std::string> words;
    for (std::string w; in >> w;)
        words.insert(w);
    return words;
}

void write_file(const std::string& path, const std::string& value) {
    raind::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd)
        raind::throw_errno("open " + path);
    if (!write_all(fd.get(), value.data(), value.size()))
        raind::throw_errno("write \"" + value + "\" to " + path);
}

// "/a//b/" → "/a/b"; rejects "." and ".." so the path cannot leave the hierarchy.
std::string normalize(const std::string& path) {
    std::string out;
    std::istringstream parts(path);
    for (std::string part; std::getline(parts, part, '/');) {
        if (part.empty())
            continue;
        if (part == "." || part == "..")
            throw raind::Error("linux.cgroupsPath \"" + path + "\": \".\" and \"..\" are not allowed");
        out += "/" + part;
    }
    return out.empty() ? "/" : out;
}

// Removes a cgroup and the sub-cgroups a delegated container made, deepest first. rmdir of a
// cgroup whose last task is still exiting fails with EBUSY for a moment: retry briefly.
bool remove_tree(const std::string& dir) noexcept {
    if (DIR* d = ::opendir(dir.c_str())) {
        std::vector<std::string> children;
        while (dirent* e = ::readdir(d))
            if (e->d_type == DT_DIR && e->d_name[0] != '.')
                children.push_back(dir + "/" + e->d_name);
        ::closedir(d);
        for (const std::string& child : children)
            remove_tree(child);
    }
    for (int attempt = 0; attempt < 1000; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT)
            return true;
        if (errno != EBUSY)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

class FsCgroup final : public CgroupManager {
public:
    FsCgroup(CgroupRecord record, CgroupResources resources)
        : CgroupManager(std::move(record)), resources_(std::move(resources)) {}

    int precreate() override {
        if (dir_fd_)
            return dir_fd_.get();
        std::string mount = unified_mount_point();
        std::vector<CgroupFileWrite> files = resource_files(resources_);
        std::set<std::string> needed;
        for (const CgroupFileWrite& f : files)
            if (!f.controller.empty() && !f.unlimited())
                needed.insert(f.controller);
        // Check before creating anything: a limit the hierarchy cannot enforce is an error.
        std::set<std::string> available = read_words(mount + "/cgroup.controllers");
        for (const std::string& c : needed)
            if (!available.count(c))
                throw raind::Error("cgroup controller \"" + c + "\" is not available in the cgroup v2 hierarchy at " +
                                   mount + " (needed for " + first_file_of(files, c) + ")");
        std::string dir = mount;
        std::istringstream parts(record_.path);
        std::vector<std::string> components;
        for (std::string part; std::getline(parts, part, '/');)
            if (!part.empty())
                components.push_back(part);
        if (components.empty())
            throw raind::Error("linux.cgroupsPath: the root cgroup cannot be a container's cgroup");
        for (size_t i = 0; i < components.size(); ++i) {
            // Controllers must be enabled in every ancestor's subtree for the leaf to get them.
            std::set<std::string> enabled = read_words(dir + "/cgroup.subtree_control");
            for (const std::string& c : needed)
                if (!enabled.count(c))
                    write_file(dir + "/cgroup.subtree_control", "+" + c);
            dir += "/" + components[i];
            bool leaf = i + 1 == components.size();
            if (::mkdir(dir.c_str(), 0755) < 0) {
                if (errno != EEXIST)
                    raind::throw_errno("create cgroup " + dir);
                if (leaf && !read_words(dir + "/cgroup.procs").empty())
                    throw raind::Error("cgroup " + dir + " already holds processes; is another container using it?");
            }
        }
        write_cgroup_files(dir, files);
        apply_device_rules(dir, resources_.devices);
        dir_fd_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!dir_fd_)
            raind::throw_errno("open cgroup " + dir);
        return dir_fd_.get();
    }

    void enter(pid_t pid, bool already_inside) override {
        precreate();
        if (!already_inside)
            write_file(directory() + "/cgroup.procs", std::to_string(pid));
    }

    void update(const CgroupResources& resources) override {
        std::string dir = directory();
        write_cgroup_files(dir, resource_files(resources));
        if (!resources.devices.empty())
            apply_device_rules(dir, resources.devices);
    }

    void destroy() noexcept override {
        dir_fd_.reset();
        if (unified_mount_point().empty())
            return;
        std::string dir = unified_mount_point() + record_.path;
        if (!remove_tree(dir))
            raind::log::debug("remove cgroup " + dir + ": " + std::strerror(errno) + ", ignoring");
    }

private:
    static std::string first_file_of(const std::vector<CgroupFileWrite>& files, const std::string& controller) {
        for (const CgroupFileWrite& f : files)
            if (f.controller == controller)
                return f.file;
        return controller;
    }

    CgroupResources resources_;
    raind::UniqueFd dir_fd_;
};

class DisabledCgroup final : public CgroupManager {
public:
    DisabledCgroup() : CgroupManager({}) {}
    void enter(pid_t, bool) override {}
    void update(const CgroupResources&) override { directory(); }
    void destroy() noexcept override {}
};

} // namespace

void write_cgroup_files(const std::string& dir, const std::vector<CgroupFileWrite>& files) {
    std::set<std::string> available = read_words(dir + "/cgroup.controllers");
    for (const CgroupFileWrite& f : files) {
        if (!f.controller.empty() && !available.count(f.controller) && f.unlimited())
            continue;
        if (!f.controller.empty() && !available.count(f.controller))
            throw raind::Error("cgroup controller \"" + f.controller + "\" is not available in " + dir +
                               " (needed for " + f.file + ")");
        write_file(dir + "/" + f.file, f.value);
    }
}

std::unique_ptr<CgroupManager> make_fs_cgroup(const std::string& cgroups_path, const std::string& id,
                                              const CgroupResources& resources) {
    std::string path;
    if (cgroups_path.empty())
        path = "/" + id;
    else if (cgroups_path.front() == '/')
        path = cgroups_path;
    else
        path = own_cgroup() + "/" + cgroups_path;
    path = normalize(path);
    if (path == "/")
        throw raind::Error("linux.cgroupsPath \"" + cgroups_path + "\": the root cgroup cannot be a container's cgroup");
    // Validate what would be written now, before any directory exists.
    resource_files(resources);
    return std::make_unique<FsCgroup>(CgroupRecord{"cgroupfs", path, ""}, resources);
}

std::unique_ptr<CgroupManager> open_fs_cgroup(const CgroupRecord& record) {
    return std::make_unique<FsCgroup>(record, CgroupResources{});
}

std::unique_ptr<CgroupManager> make_disabled_cgroup() { return std::make_unique<DisabledCgroup>(); }

} // namespace droplet
