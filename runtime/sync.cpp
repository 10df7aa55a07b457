#include "sync.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "error.hpp"
#include "fd_passing.hpp"

namespace droplet {

std::pair<SyncSocket, SyncSocket> SyncSocket::make_pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
        raind::throw_errno("socketpair for the init sync channel");
    return {SyncSocket(raind::UniqueFd(fds[0])), SyncSocket(raind::UniqueFd(fds[1]))};
}

bool SyncSocket::send_noexcept(SyncType type, std::string_view payload) noexcept {
    uint32_t header = static_cast<uint32_t>(type);
    iovec iov[2] = {{&header, sizeof header}, {const_cast<char*>(payload.data()), payload.size()}};
    msghdr msg{};
    msg.msg_iov = iov;
    msg.msg_iovlen = 2;
    for (;;) {
        ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
        if (n >= 0)
            return true;
        if (errno != EINTR)
            return false;
    }
}

void SyncSocket::move_above(int min) {
    if (fd_.get() >= min)
        return;
    int moved = ::fcntl(fd_.get(), F_DUPFD_CLOEXEC, min);
    if (moved < 0)
        raind::throw_errno("move the sync socket out of the preserved fds");
    fd_.reset(moved);
}

void SyncSocket::send_fd(SyncType type, int fd) {
    uint32_t header = static_cast<uint32_t>(type);
    if (raind::send_with_fds(fd_.get(), &header, sizeof header, {&fd, 1}) < 0)
        raind::throw_errno("send an fd to droplet");
}

void SyncSocket::send(SyncType type, std::string_view payload) {
    if (!send_noexcept(type, payload))
        raind::throw_errno("send to the container init");
}

bool SyncSocket::receive(SyncMessage& message) {
    // Static and never cleared: only the bytes a message fills are ever touched (droplet is
    // single-threaded, and its peak RSS is part of what start-up costs).
    static char buf[65536];
    raind::Received r = raind::receive_with_fds(fd_.get(), buf, 1, "receive from the container init");
    if (r.size == 0)
        return false;
    if (r.size < sizeof(uint32_t))
        throw raind::Error("short message on the init sync channel");
    uint32_t header;
    std::memcpy(&header, buf, sizeof header);
    message.type = static_cast<SyncType>(header);
    message.payload.assign(buf + sizeof header, r.size - sizeof header);
    message.fd = r.fds.empty() ? raind::UniqueFd() : std::move(r.fds.front());
    return true;
}

} // namespace droplet
