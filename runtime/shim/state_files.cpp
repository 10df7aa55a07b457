#include "state_files.hpp"

#include <fcntl.h>
#include <unistd.h>


#include "error.hpp"
#include "fd_passing.hpp"

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
    try {
        raind::Received r = raind::receive_with_fds(socket, data, 1, "receive an fd");
        if (!r.fds.empty())
            return std::move(r.fds.front());
    } catch (const raind::Error&) {
        // The callers name what was missing ("the runtime did not send the pty master").
    }
    return {};
}

} // namespace shim
