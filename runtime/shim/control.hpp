// The shim's control socket (<state-dir>/ctl, mode 0600): one command line per connection,
// one reply line, and for `attach` the file descriptors of the stream (SCM_RIGHTS).
//
//   start                  -> "ok" | "error <text>"   (runs `<runtime> start`)
//   stop <signal> <secs>   -> "ok"   (no restart any more; signal now, SIGKILL after <secs>)
//   attach                 -> "ok tty" + [stream, pty master] | "ok pipes" + [stream] | "error <text>"
//   wait                   -> "exit <status>" once the shim is done (status: code, or 128+signal)
//   exec tty|pipes <process.json>
//                          -> "ok tty <pid>" + [pty master] | "ok pipes <pid>" + [stdin, stdout, stderr],
//                             then, on the same connection, "exit <status>" when the process ends
//
// The stream is a unix socket: what the client writes goes to the container's stdin (the
// pty, or its stdin pipe with --stdin; shutdown(SHUT_WR) closes that pipe with
// --stdin-once); what it reads is the container's output — raw bytes with a terminal,
// otherwise frames of an 8-byte header (stream 1 = stdout, 2 = stderr, three zero bytes,
// big-endian 32-bit length) and the data, Docker's attach format. The pty master is for
// TIOCSWINSZ (resize) and termios; its output belongs to the shim, so clients do not read it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fd.hpp"

namespace shim {

constexpr const char* control_socket_name = "ctl";

// Server side.
raind::UniqueFd listen_control(const std::string& path);
// Sends `line` + "\n" with `fds` attached; false when the peer is gone.
bool send_reply(int socket, const std::string& line, const std::vector<int>& fds = {});

// Client side (condenser, tests). Each throws raind::Error with the shim's reply or errno.
struct Attached {
    bool tty = false;
    raind::UniqueFd stream;
    raind::UniqueFd master; // with tty only
};
std::string control_request(const std::string& state_dir, const std::string& line,
                            std::vector<raind::UniqueFd>* fds = nullptr);
Attached attach(const std::string& state_dir);
void start(const std::string& state_dir);
void stop(const std::string& state_dir, int signal, int timeout_seconds);
int wait(const std::string& state_dir);

// A `wait` sent now and answered later: created before `start`, it cannot miss the exit of
// a short-lived --rm container (whose shim leaves no exit file behind).
class WaitRequest {
public:
    explicit WaitRequest(const std::string& state_dir);
    int fd() const { return fd_.get(); } // readable once the answer is there
    int result();                        // blocks; the container's status

private:
    std::string path_;
    raind::UniqueFd fd_;
};

// A process run in the container through the shim (`runtime exec --detach`): the client owns
// its terminal or pipes completely; the shim reaps it and reports its status.
struct ExecSession {
    pid_t pid = 0;
    bool tty = false;
    raind::UniqueFd master;                  // tty
    raind::UniqueFd stdin_fd, stdout_fd, stderr_fd; // pipes
    raind::UniqueFd control;                 // readable once the status is there
    int wait();                              // blocks; the process's status
};
ExecSession exec(const std::string& state_dir, const std::string& process_file, bool tty);

// Splits a framed (non-tty) output stream; returns the payloads of complete frames appended
// to out/err and leaves an incomplete frame in `buffer`.
void unframe(std::string& buffer, std::string& out, std::string& err);

} // namespace shim
