// Passing file descriptors over a unix socket (SCM_RIGHTS): one place for the cmsg plumbing.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "fd.hpp"

namespace raind {

inline constexpr size_t max_passed_fds = 8;

// One sendmsg of `size` bytes of `data` carrying `fds` (at most max_passed_fds), retried on
// EINTR, never raising SIGPIPE. Returns what sendmsg returns (bytes sent, or -1 with errno).
// Allocates nothing, so the container's init may call it between clone and execve.
ssize_t send_with_fds(int socket, const void* data, size_t size, std::span<const int> fds) noexcept;

struct Received {
    size_t size = 0;                // bytes read into the buffer; 0 when the peer closed
    std::vector<UniqueFd> fds;      // in the order sent, close-on-exec
};

// One recvmsg into `buffer` (retried on EINTR) that takes the descriptors sent with it
// (MSG_CMSG_CLOEXEC). Keeps the first `max_fds` (at most max_passed_fds) and closes the rest.
// Throws naming `what` when recvmsg fails, or when the kernel dropped descriptors for want of
// room (MSG_CTRUNC), or a datagram/seqpacket message did not fit `buffer` (MSG_TRUNC): a
// message that lost some of its fds or bytes is never taken for a whole one.
Received receive_with_fds(int socket, std::span<char> buffer, size_t max_fds, std::string_view what);

} // namespace raind
