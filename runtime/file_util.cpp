#include "file_util.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"
#include "fd.hpp"

namespace droplet {

std::string read_file(const std::string& path) {
    raind::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        raind::throw_errno("open " + path);
    std::string text;
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            raind::throw_errno("read " + path);
        }
        if (n == 0)
            return text;
        text.append(buf, static_cast<size_t>(n));
    }
}

bool write_all(int fd, const void* data, size_t size) noexcept {
    auto* p = static_cast<const char*>(data);
    while (size > 0) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

void write_file_atomic(const std::string& path, const std::string& content, unsigned mode) {
    std::string tmp = path + ".tmp";
    raind::UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd)
        raind::throw_errno("create " + tmp);
    if (!write_all(fd.get(), content.data(), content.size())) {
        int err = errno;
        ::unlink(tmp.c_str());
        raind::throw_errno("write " + tmp, err);
    }
    fd.reset();
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        raind::throw_errno("rename " + tmp + " to " + path, err);
    }
}

} // namespace droplet
