// Where condenser-rest listens: the socket systemd passed it, or one it binds itself.
#pragma once

#include <string>
#include <string_view>

#include "fd.hpp"

namespace raind::rest {

// The name units/condenser-rest.socket gives its socket (FileDescriptorName=rest).
inline constexpr std::string_view systemd_socket_name = "rest";

// A --listen address. Only "unix:/absolute/path" for now.
struct ListenAddress {
    std::string unix_path;
};

// Throws raind::Error naming the bad value and what is accepted.
ListenAddress parse_listen_address(std::string_view spec);

// The listening socket systemd passed under `name` (socket activation), or an empty
// fd when it passed none. Throws when sockets were passed but none has that name, or
// the one named is not a listening stream socket.
UniqueFd take_systemd_socket(std::string_view name);

// A listening Unix stream socket this process bound itself. The socket file is
// removed again when this object goes, so a stopped server leaves nothing behind.
class BoundUnixSocket {
public:
    explicit BoundUnixSocket(std::string path);
    ~BoundUnixSocket();
    BoundUnixSocket(const BoundUnixSocket&) = delete;
    BoundUnixSocket& operator=(const BoundUnixSocket&) = delete;

    const std::string& path() const noexcept { return path_; }
    // The listening fd, for the server to own; the socket file stays ours.
    UniqueFd take_fd() noexcept { return std::move(fd_); }

private:
    std::string path_;
    UniqueFd fd_;
};

} // namespace raind::rest
