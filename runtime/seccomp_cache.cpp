#include "seccomp_cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <seccomp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "fd.hpp"
#include "file_util.hpp"
#include "libseccomp_api.hpp"
#include "log.hpp"
#include "raind-config.h"

namespace droplet {
namespace {

// Entries beyond this many are all dropped: profiles rarely vary, so this only bounds growth.
constexpr int max_entries = 64;

// What the program depends on besides the profile. The whole key is stored in the entry and
// compared on load, so a hash collision can never hand out another profile's program.
std::string cache_key(const std::string& profile) {
    const scmp_version* v = libseccomp().version();
    char versions[96];
    std::snprintf(versions, sizeof versions, "droplet %s libseccomp %u.%u.%u\n", RAIND_VERSION, v->major, v->minor,
                  v->micro);
    return versions + profile;
}

std::string entry_path(const std::string& dir, const std::string& key) {
    char name[32];
    std::snprintf(name, sizeof name, "/%016zx.bpf", std::hash<std::string>{}(key));
    return dir + name;
}

void drop_entries_if_full(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d)
        return;
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.')
            names.push_back(e->d_name);
    ::closedir(d);
    if (static_cast<int>(names.size()) < max_entries)
        return;
    for (const std::string& n : names)
        ::unlink((dir + "/" + n).c_str());
}

} // namespace

std::optional<std::vector<sock_filter>> load_cached_program(const std::string& dir, const std::string& profile) {
    if (dir.empty())
        return std::nullopt;
    std::string key = cache_key(profile);
    std::string entry;
    try {
        entry = read_file(entry_path(dir, key));
    } catch (const std::exception&) {
        return std::nullopt;
    }
    // <key> NUL <program>
    if (entry.size() <= key.size() || entry.compare(0, key.size(), key) != 0 || entry[key.size()] != '\0')
        return std::nullopt;
    size_t bytes = entry.size() - key.size() - 1;
    if (bytes == 0 || bytes % sizeof(sock_filter) != 0)
        return std::nullopt;
    std::vector<sock_filter> program(bytes / sizeof(sock_filter));
    std::memcpy(program.data(), entry.data() + key.size() + 1, bytes);
    return program;
}

void store_cached_program(const std::string& dir, const std::string& profile,
                          const std::vector<sock_filter>& program) noexcept {
    if (dir.empty() || program.empty())
        return;
    try {
        // The state root itself may not exist yet (the first container on a fresh --root).
        std::string root = dir.substr(0, dir.find_last_of('/'));
        if (!root.empty() && ::mkdir(root.c_str(), 0700) < 0 && errno != EEXIST)
            return;
        if (::mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST)
            return;
        drop_entries_if_full(dir);
        std::string key = cache_key(profile);
        std::string entry = key;
        entry.push_back('\0');
        entry.append(reinterpret_cast<const char*>(program.data()), program.size() * sizeof(sock_filter));
        write_file_atomic(entry_path(dir, key), entry, 0600);
    } catch (const std::exception& e) {
        raind::log::debug(std::string("seccomp cache: ") + e.what() + ", ignoring");
    }
}

} // namespace droplet
