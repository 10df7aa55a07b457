#include "state.hpp"

#include <dirent.h>
#include <fcntl.h>
#include "pidfd.hpp"
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "file_util.hpp"

namespace droplet {

const char* status_name(Status status) {
    switch (status) {
    case Status::creating: return "creating";
    case Status::created: return "created";
    case Status::running: return "running";
    case Status::stopped: return "stopped";
    }
    return "stopped";
}

void validate_id(const std::string& id) {
    if (id.empty())
        throw raind::Error("container id must not be empty");
    if (id.size() > 1024)
        throw raind::Error("container id is longer than 1024 characters");
    if (id == "." || id == "..")
        throw raind::Error("invalid container id \"" + id + "\"");
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '+'))
            throw raind::Error("invalid container id \"" + id + "\": only letters, digits and _ - . + are allowed");
}

std::string state_dir(const std::string& root, const std::string& id) { return root + "/" + id; }

ContainerState load_state(const std::string& root, const std::string& id) {
    validate_id(id);
    std::string path = state_dir(root, id) + "/state.json";
    std::string text;
    try {
        text = read_file(path);
    } catch (const raind::SystemError& e) {
        if (e.code() == ENOENT)
            throw raind::Error("container \"" + id + "\" does not exist");
        throw;
    }
    ContainerState s;
    try {
        auto j = nlohmann::json::parse(text);
        s.oci_version = j.at("ociVersion").get<std::string>();
        s.id = j.at("id").get<std::string>();
        s.bundle = j.at("bundle").get<std::string>();
        s.rootfs = j.value("rootfs", "");
        s.pid = j.at("pid").get<pid_t>();
        s.pid_start_time = j.at("pidStartTime").get<uint64_t>();
        s.created = j.value("created", "");
        s.owner = j.value("owner", 0u);
        s.annotations = j.value("annotations", std::map<std::string, std::string>{});
        if (auto cgroup = j.find("cgroup"); cgroup != j.end()) {
            s.cgroup_driver = cgroup->value("driver", "");
            s.cgroup_path = cgroup->value("path", "");
            s.cgroup_unit = cgroup->value("unit", "");
        }
    } catch (const nlohmann::json::exception& e) {
        throw raind::Error(path + ": corrupt state: " + e.what());
    }
    return s;
}

void save_state(const std::string& dir, const ContainerState& s) {
    nlohmann::json j{{"ociVersion", s.oci_version}, {"id", s.id},         {"bundle", s.bundle},
                     {"rootfs", s.rootfs},         {"pid", s.pid},        {"pidStartTime", s.pid_start_time},
                     {"created", s.created},       {"owner", s.owner},    {"annotations", s.annotations}};
    if (!s.cgroup_driver.empty())
        j["cgroup"] = {{"driver", s.cgroup_driver}, {"path", s.cgroup_path}, {"unit", s.cgroup_unit}};
    write_file_atomic(dir + "/state.json", j.dump());
}

std::vector<std::string> list_ids(const std::string& root) {
    std::vector<std::string> ids;
    DIR* d = ::opendir(root.c_str());
    if (!d) {
        if (errno == ENOENT)
            return ids;
        raind::throw_errno("open state root " + root);
    }
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        std::string p = root + "/" + e->d_name + "/state.json";
        if (::access(p.c_str(), F_OK) == 0)
            ids.emplace_back(e->d_name);
    }
    ::closedir(d);
    std::sort(ids.begin(), ids.end());
    return ids;
}

namespace {

// /proc/<pid>/stat fields after the command name, which may itself hold spaces and ')'.
bool read_stat(pid_t pid, char& state, uint64_t& start_time) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    raind::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd)
        return false;
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0)
        return false;
    buf[n] = 0;
    char* p = std::strrchr(buf, ')');
    if (!p || p[1] != ' ')
        return false;
    p += 2;
    state = *p;
    // state is field 3; starttime is field 22.
    for (int field = 3; field < 22; ++field) {
        p = std::strchr(p, ' ');
        if (!p)
            return false;
        ++p;
    }
    start_time = std::strtoull(p, nullptr, 10);
    return true;
}

} // namespace

uint64_t process_start_time(pid_t pid) {
    char state = 0;
    uint64_t start = 0;
    return read_stat(pid, state, start) ? start : 0;
}

char process_state(pid_t pid) {
    char state = 0;
    uint64_t start = 0;
    return read_stat(pid, state, start) ? state : 0;
}

Status current_status(const std::string& root, const ContainerState& s) {
    char state = 0;
    uint64_t start = 0;
    if (s.pid <= 0 || !read_stat(s.pid, state, start) || start != s.pid_start_time || state == 'Z' || state == 'X')
        return Status::stopped;
    std::string sock = state_dir(root, s.id) + "/" + start_socket_name;
    return ::access(sock.c_str(), F_OK) == 0 ? Status::created : Status::running;
}

nlohmann::json state_document(const ContainerState& s, Status status) {
    nlohmann::json j{{"ociVersion", s.oci_version}, {"id", s.id}, {"status", status_name(status)}};
    if (status != Status::stopped)
        j["pid"] = s.pid;
    else
        j["pid"] = 0;
    j["bundle"] = s.bundle;
    j["rootfs"] = s.rootfs;
    j["created"] = s.created;
    j["owner"] = "";
    if (!s.annotations.empty())
        j["annotations"] = s.annotations;
    return j;
}

std::string state_text(const ContainerState& s, Status status) { return state_document(s, status).dump(); }

raind::UniqueFd open_init_pidfd(const ContainerState& s) {
    if (s.pid <= 0)
        return {};
    raind::UniqueFd fd(pidfd_open(s.pid, 0));
    if (!fd)
        return {};
    // The pidfd pins the process; checking the start time after opening it closes the race
    // with a pid reused between our read of state.json and the signal.
    if (process_start_time(s.pid) != s.pid_start_time)
        return {};
    return fd;
}

namespace {

std::string ns_link(pid_t pid, const char* ns) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/ns/%s", pid, ns);
    char buf[128];
    ssize_t n = ::readlink(path, buf, sizeof buf - 1);
    if (n <= 0)
        return {};
    return std::string(buf, static_cast<size_t>(n));
}

pid_t parent_of(pid_t pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    raind::UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd)
        return -1;
    char buf[1024];
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char* p = std::strrchr(buf, ')');
    if (!p)
        return -1;
    return static_cast<pid_t>(std::strtol(p + 4, nullptr, 10)); // ") S <ppid>"
}

} // namespace

std::vector<pid_t> container_pids(const ContainerState& s) {
    std::vector<pid_t> pids;
    if (s.pid <= 0 || process_start_time(s.pid) != s.pid_start_time)
        return pids;
    std::string init_ns = ns_link(s.pid, "pid");
    bool own_pid_ns = !init_ns.empty() && init_ns != ns_link(::getpid(), "pid");
    std::vector<pid_t> all;
    DIR* d = ::opendir("/proc");
    if (!d)
        raind::throw_errno("open /proc");
    while (dirent* e = ::readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (*end == 0 && pid > 0)
            all.push_back(static_cast<pid_t>(pid));
    }
    ::closedir(d);
    pids.push_back(s.pid);
    if (own_pid_ns) {
        for (pid_t p : all)
            if (p != s.pid && ns_link(p, "pid") == init_ns)
                pids.push_back(p);
        return pids;
    }
    std::map<pid_t, pid_t> parents;
    for (pid_t p : all)
        parents[p] = parent_of(p);
    for (pid_t p : all) {
        for (pid_t q = parents[p], hops = 0; q > 1 && hops < 4096; q = parents.count(q) ? parents[q] : -1, ++hops)
            if (q == s.pid) {
                pids.push_back(p);
                break;
            }
    }
    return pids;
}

void remove_state_dir(const std::string& dir) noexcept {
    DIR* d = ::opendir(dir.c_str());
    if (d) {
        while (dirent* e = ::readdir(d)) {
            if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
                continue;
            ::unlinkat(::dirfd(d), e->d_name, 0);
        }
        ::closedir(d);
    }
    ::rmdir(dir.c_str());
}

std::string now_rfc3339() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    ::gmtime_r(&ts.tv_sec, &utc);
    char buf[64];
    size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

} // namespace droplet
