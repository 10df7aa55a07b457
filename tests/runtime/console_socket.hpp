// The receiving end of --console-socket, as conmon implements it: a listening unix socket
// that gets the pty master over SCM_RIGHTS.
#pragma once

#include <string>

namespace droplet::test {

class ConsoleSocket {
public:
    explicit ConsoleSocket(const std::string& path);
    ~ConsoleSocket();
    ConsoleSocket(const ConsoleSocket&) = delete;
    ConsoleSocket& operator=(const ConsoleSocket&) = delete;

    const std::string& path() const { return path_; }
    // Accepts one connection and returns the fd it carried (-1 on failure).
    int receive_master(int timeout_ms = 5000);
    // Reads from a pty master until the slave side is gone (EIO) or the timeout passes.
    static std::string read_all(int master, int timeout_ms = 5000);

private:
    std::string path_;
    int listen_fd_ = -1;
};

} // namespace droplet::test
