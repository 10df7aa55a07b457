// pidfd system calls. glibc 2.36's <sys/pidfd.h> lacks extern "C", so C++ cannot link
// against it; these go through syscall(2) directly.
#pragma once

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace droplet {

inline int pidfd_open(pid_t pid, unsigned int flags) {
    return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}

inline int pidfd_send_signal(int pidfd, int sig, siginfo_t* info, unsigned int flags) {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags));
}

} // namespace droplet
