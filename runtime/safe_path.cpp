#include "safe_path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <vector>

#include "error.hpp"

namespace droplet {

namespace {

// Linux's own limit on symlinks in one lookup.
constexpr int max_symlinks = 40;

std::deque<std::string> split_components(const std::string& path) {
    std::deque<std::string> parts;
    std::string::size_type start = 0;
    while (start <= path.size()) {
        auto end = path.find('/', start);
        if (end == std::string::npos)
            end = path.size();
        if (end > start)
            parts.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

raind::UniqueFd duplicate(int fd) {
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (copy < 0)
        raind::throw_errno("duplicate root fd");
    return raind::UniqueFd(copy);
}

std::string read_link(int fd) {
    std::string target(4096, '\0');
    ssize_t length = readlinkat(fd, "", target.data(), target.size());
    if (length < 0)
        raind::throw_errno("readlink");
    target.resize(static_cast<size_t>(length));
    return target;
}

} // namespace

std::optional<std::string> clean_absolute_path(const std::string& path) {
    std::vector<std::string> kept;
    for (auto& part : split_components(path)) {
        if (part == ".")
            continue;
        if (part == "..") {
            if (kept.empty())
                return std::nullopt;
            kept.pop_back();
            continue;
        }
        kept.push_back(std::move(part));
    }
    std::string clean;
    for (const auto& part : kept)
        clean += "/" + part;
    return clean.empty() ? "/" : clean;
}

raind::UniqueFd open_in_root(int root_fd, const std::string& path, int flags) {
    open_how how{};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    // openat2 rejects an empty path; "." is the root itself.
    const std::string relative = path.empty() || path == "/" ? "." : path;
    long fd = syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how);
    if (fd < 0) {
        if (errno == ENOENT)
            return {};
        raind::throw_errno("open " + path);
    }
    return raind::UniqueFd(static_cast<int>(fd));
}

raind::UniqueFd create_in_root(int root_fd, const std::string& path, CreateKind kind) {
    if (auto existing = open_in_root(root_fd, path, O_PATH))
        return existing;

    // Walk one component at a time: each step is a single-name lookup below a directory we
    // already hold, ".." never leaves the root and absolute symlinks restart from it.
    std::vector<raind::UniqueFd> walked;
    walked.push_back(duplicate(root_fd));
    std::deque<std::string> pending = split_components(path);
    int symlinks = 0;
    int steps = 0;
    while (!pending.empty()) {
        // Each created name is reopened once; only a concurrent rename could loop here forever.
        if (++steps > 4096)
            raind::throw_errno("resolve " + path, ELOOP);
        std::string name = std::move(pending.front());
        pending.pop_front();
        if (name == ".")
            continue;
        if (name == "..") {
            if (walked.size() > 1)
                walked.pop_back();
            continue;
        }
        const int parent = walked.back().get();
        raind::UniqueFd next(openat(parent, name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        if (next) {
            struct stat st {};
            if (fstat(next.get(), &st) < 0)
                raind::throw_errno("stat " + path);
            if (!S_ISLNK(st.st_mode)) {
                walked.push_back(std::move(next));
                continue;
            }
            if (++symlinks > max_symlinks)
                raind::throw_errno("resolve " + path, ELOOP);
            const std::string target = read_link(next.get());
            auto parts = split_components(target);
            pending.insert(pending.begin(), parts.begin(), parts.end());
            if (!target.empty() && target.front() == '/')
                walked.resize(1);
            continue;
        }
        if (errno != ENOENT)
            raind::throw_errno("open " + path);
        if (pending.empty() && kind == CreateKind::file) {
            raind::UniqueFd created(openat(parent, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
            if (!created && errno != EEXIST)
                raind::throw_errno("create " + path);
        } else if (mkdirat(parent, name.c_str(), 0755) < 0 && errno != EEXIST) {
            raind::throw_errno("mkdir " + path);
        }
        pending.push_front(std::move(name)); // open what was just created on the next round
    }
    return std::move(walked.back());
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

} // namespace droplet
