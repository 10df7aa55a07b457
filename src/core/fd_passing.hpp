// Passing file descriptors over a unix socket (SCM_RIGHTS): one place for the cmsg plumbing.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <span>

namespace raind {

inline constexpr size_t max_passed_fds = 8;

// One sendmsg of `size` bytes of `data` carrying `fds` (at most max_passed_fds), retried on
// EINTR, never raising SIGPIPE. Returns what sendmsg returns (bytes sent, or -1 with errno).
// Allocates nothing, so the container's init may call it between clone and execve.
ssize_t send_with_fds(int socket, const void* data, size_t size, std::span<const int> fds) noexcept;

} // namespace raind
