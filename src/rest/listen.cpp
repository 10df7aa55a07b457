#include "listen.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "error.hpp"

namespace raind::rest {
namespace {

sockaddr_un unix_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

// Why bind() found the path taken: a socket file nobody listens on any more (a server
// that died) may be replaced; a live server's socket or any other file may not.
enum class Occupant { stale_socket, live_socket, not_a_socket };

Occupant occupant_of(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) < 0 || !S_ISSOCK(st.st_mode))
        return Occupant::not_a_socket;
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr = unix_address(path);
    if (probe && ::connect(probe.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 && errno == ECONNREFUSED)
        return Occupant::stale_socket;
    return Occupant::live_socket;
}

std::string join(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names)
        out += (out.empty() ? "'" : ", '") + n + "'";
    return out;
}

} // namespace

ListenAddress parse_listen_address(std::string_view spec) {
    constexpr std::string_view unix_prefix = "unix:";
    const std::string quoted = "--listen '" + std::string(spec) + "'";
    if (!spec.starts_with(unix_prefix))
        throw Error(quoted + ": unsupported address, expected unix:/absolute/path");
    std::string path(spec.substr(unix_prefix.size()));
    if (path.empty() || path.front() != '/')
        throw Error(quoted + ": the socket path must be absolute");
    if (path.size() >= sizeof(sockaddr_un::sun_path))
        throw Error(quoted + ": the socket path is longer than " + std::to_string(sizeof(sockaddr_un::sun_path) - 1) +
                    " bytes");
    return {std::move(path)};
}

UniqueFd take_systemd_socket(std::string_view name) {
    char** names = nullptr;
    // unset_environment=1: processes we start must not think the sockets are theirs.
    int n = sd_listen_fds_with_names(1, &names);
    if (n < 0)
        throw_errno("reading the sockets systemd passed (LISTEN_FDS)", -n);
    UniqueFd found;
    std::vector<std::string> seen;
    for (int i = 0; i < n; ++i) {
        std::string fd_name = names && names[i] ? names[i] : "unknown";
        if (!found && fd_name == name)
            found.reset(SD_LISTEN_FDS_START + i);
        seen.push_back(std::move(fd_name));
    }
    if (names) {
        for (int i = 0; i < n; ++i)
            std::free(names[i]);
        std::free(names);
    }
    if (n == 0)
        return {};
    if (!found)
        throw Error("systemd passed " + std::to_string(n) + " socket(s) named " + join(seen) + " but none named '" +
                    std::string(name) + "' (FileDescriptorName=" + std::string(name) + " in condenser-rest.socket)");
    if (sd_is_socket(found.get(), AF_UNSPEC, SOCK_STREAM, 1) <= 0)
        throw Error("the socket systemd passed as '" + std::string(name) + "' is not a listening stream socket");
    if (::fcntl(found.get(), F_SETFD, FD_CLOEXEC) < 0)
        throw_errno("setting close-on-exec on the socket passed as '" + std::string(name) + "'");
    return found;
}

BoundUnixSocket::BoundUnixSocket(std::string path) : path_(std::move(path)) {
    fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd_)
        throw_errno("creating a Unix socket for " + path_);
    sockaddr_un addr = unix_address(path_);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
        if (errno != EADDRINUSE)
            throw_errno("binding " + path_);
        switch (occupant_of(path_)) {
        case Occupant::not_a_socket: throw Error("binding " + path_ + ": the path exists and is not a socket");
        case Occupant::live_socket: throw Error("binding " + path_ + ": a server is already listening there");
        case Occupant::stale_socket: break;
        }
        if (::unlink(path_.c_str()) < 0 || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
            throw_errno("replacing the stale socket " + path_);
    }
    if (::listen(fd_.get(), SOMAXCONN) < 0) {
        int err = errno;
        ::unlink(path_.c_str());
        throw_errno("listening on " + path_, err);
    }
}

BoundUnixSocket::~BoundUnixSocket() { ::unlink(path_.c_str()); }

} // namespace raind::rest
