#include "state_files.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "error.hpp"

namespace shim {

void write_file_atomically(const std::string& path, const std::string& content) {
    std::string temp = path + ".tmp";
    raind::UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd)
        raind::throw_errno("create " + temp);
    if (::write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
        raind::throw_errno("write " + temp);
    fd.reset();
    if (::rename(temp.c_str(), path.c_str()) < 0)
        raind::throw_errno("rename " + temp + " to " + path);
}

std::string read_text_file(const std::string& path) {
    raind::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    std::string out;
    if (!fd)
        return out;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<size_t>(n));
    return out;
}

raind::UniqueFd receive_one_fd(int socket) {
    char data[256];
    iovec iov{data, sizeof data};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 4)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    if (::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC) <= 0)
        return {};
    raind::UniqueFd first;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (!first)
                first.reset(fd);
            else
                ::close(fd);
        }
    }
    return first;
}

} // namespace shim
