#include "fd_passing.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "error.hpp"

namespace raind {

ssize_t send_with_fds(int socket, const void* data, size_t size, std::span<const int> fds) noexcept {
    if (fds.size() > max_passed_fds) {
        errno = EINVAL;
        return -1;
    }
    iovec iov{const_cast<void*>(data), size};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed_fds)]{};
    if (!fds.empty()) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
    }
    ssize_t sent;
    while ((sent = ::sendmsg(socket, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return sent;
}

Received receive_with_fds(int socket, std::span<char> buffer, size_t max_fds, std::string_view what) {
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    // Room for max_passed_fds whatever the caller keeps: surplus ones arrive and are closed
    // here instead of being dropped by the kernel as a truncation.
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_passed_fds)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n;
    while ((n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC)) < 0)
        if (errno != EINTR)
            throw_errno(what);

    Received received;
    received.size = static_cast<size_t>(n);
    std::vector<UniqueFd> all; // owned at once, so an early throw closes every one
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            all.emplace_back(fd);
        }
    }
    if (msg.msg_flags & MSG_TRUNC) // datagram and seqpacket sockets drop what does not fit
        throw Error(std::string(what) + ": the message is longer than the " + std::to_string(buffer.size()) +
                    " bytes it was received into (MSG_TRUNC)");
    if (msg.msg_flags & MSG_CTRUNC)
        throw Error(std::string(what) + ": more than " + std::to_string(max_passed_fds) +
                    " file descriptors were sent with one message; the kernel dropped the rest (MSG_CTRUNC)");
    size_t keep = std::min(max_fds, max_passed_fds);
    for (size_t i = 0; i < all.size() && i < keep; ++i)
        received.fds.push_back(std::move(all[i]));
    return received; // the surplus in `all` closes here
}

} // namespace raind
