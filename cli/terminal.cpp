#include "terminal.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <initializer_list>

namespace raind::cli {

RawTerminal::RawTerminal(int fd) : fd_(fd) {
    if (::tcgetattr(fd_, &saved_) != 0)
        return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(fd_, TCSANOW, &raw) == 0;
}

RawTerminal::~RawTerminal() {
    if (active_)
        ::tcsetattr(fd_, TCSANOW, &saved_);
}

void copy_window_size(int master) {
    winsize size{};
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
        if (::ioctl(fd, TIOCGWINSZ, &size) == 0) {
            ::ioctl(master, TIOCSWINSZ, &size);
            return;
        }
}

void write_all(int fd, const char* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; // the reader went away: nothing more to show
        data += n;
        size -= static_cast<size_t>(n);
    }
}

} // namespace raind::cli
