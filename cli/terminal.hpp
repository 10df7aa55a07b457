// The local terminal: raw mode for as long as an object lives, and its size for a pty master.
#pragma once

#include <termios.h>

#include <cstddef>

namespace raind::cli {

class RawTerminal {
public:
    explicit RawTerminal(int fd); // does nothing when fd is not a terminal
    ~RawTerminal();
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

// The size of this process's terminal (stdin, stdout or stderr) onto `master` (TIOCSWINSZ).
void copy_window_size(int master);

// Writes everything unless the reader goes away.
void write_all(int fd, const char* data, size_t size);

} // namespace raind::cli
