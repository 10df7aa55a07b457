#include "control.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "error.hpp"
#include "fd_passing.hpp"

namespace shim {
namespace {

sockaddr_un socket_address(const std::string& path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        throw raind::Error("socket path too long (" + std::to_string(path.size()) + " bytes): " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}

} // namespace

raind::UniqueFd listen_control(const std::string& path) {
    sockaddr_un addr = socket_address(path);
    raind::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd)
        raind::throw_errno("socket for " + path);
    ::unlink(path.c_str());
    // Bind under a 0177 umask so the socket is never reachable by others, not even briefly.
    mode_t old = ::umask(0177);
    int r = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::umask(old);
    if (r < 0)
        raind::throw_errno("bind " + path);
    if (::listen(fd.get(), 16) < 0)
        raind::throw_errno("listen on " + path);
    return fd;
}

bool send_reply(int socket, const std::string& line, const std::vector<int>& fds) {
    std::string data = line + "\n";
    return raind::send_with_fds(socket, data.data(), data.size(), fds) == static_cast<ssize_t>(data.size());
}

namespace {

raind::UniqueFd send_request(const std::string& path, const std::string& line) {
    sockaddr_un addr = socket_address(path);
    raind::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd)
        raind::throw_errno("socket");
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
        raind::throw_errno("connect to shim " + path);
    std::string request = line + "\n";
    if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) < 0)
        raind::throw_errno("send to shim " + path);
    return fd;
}

std::string read_reply(int fd, const std::string& path, const std::string& line, std::vector<raind::UniqueFd>* fds) {
    std::string reply;
    while (reply.find('\n') == std::string::npos) {
        char buf[512];
        // A caller that wants no fds gets none: whatever the shim sent is closed.
        raind::Received r =
            raind::receive_with_fds(fd, buf, fds ? raind::max_passed_fds : 0, "receive from shim " + path);
        if (r.size == 0)
            throw raind::Error("shim " + path + " closed the connection without a reply to '" + line + "'");
        if (fds)
            for (raind::UniqueFd& received : r.fds)
                fds->push_back(std::move(received));
        reply.append(buf, r.size);
    }
    reply.erase(reply.find('\n'));
    if (reply.rfind("error ", 0) == 0)
        throw raind::Error(reply.substr(6));
    return reply;
}

int parse_exit_reply(const std::string& reply) {
    if (reply.rfind("exit ", 0) != 0)
        throw raind::Error("unexpected reply from shim to wait: " + reply);
    return std::stoi(reply.substr(5));
}

} // namespace

std::string control_request(const std::string& state_dir, const std::string& line, std::vector<raind::UniqueFd>* fds) {
    std::string path = state_dir + "/" + control_socket_name;
    raind::UniqueFd fd = send_request(path, line);
    return read_reply(fd.get(), path, line, fds);
}

WaitRequest::WaitRequest(const std::string& state_dir)
    : path_(state_dir + "/" + control_socket_name), fd_(send_request(path_, "wait")) {}

int WaitRequest::result() { return parse_exit_reply(read_reply(fd_.get(), path_, "wait", nullptr)); }

Attached attach(const std::string& state_dir) {
    std::vector<raind::UniqueFd> fds;
    std::string reply = control_request(state_dir, "attach", &fds);
    Attached a;
    a.tty = reply == "ok tty";
    if ((a.tty && fds.size() != 2) || (!a.tty && (reply != "ok pipes" || fds.size() != 1)))
        throw raind::Error("unexpected reply from shim to attach: " + reply);
    a.stream = std::move(fds[0]);
    if (a.tty)
        a.master = std::move(fds[1]);
    return a;
}

ExecSession exec(const std::string& state_dir, const std::string& process_file, bool tty) {
    std::string path = state_dir + "/" + control_socket_name;
    std::string line = std::string("exec ") + (tty ? "tty " : "pipes ") + process_file;
    ExecSession e;
    e.control = send_request(path, line);
    std::vector<raind::UniqueFd> fds;
    std::string reply = read_reply(e.control.get(), path, line, &fds);
    std::string expected = tty ? "ok tty " : "ok pipes ";
    if (reply.rfind(expected, 0) != 0 || fds.size() != (tty ? 1u : 3u))
        throw raind::Error("unexpected reply from shim to exec: " + reply);
    e.pid = static_cast<pid_t>(std::stoi(reply.substr(expected.size())));
    e.tty = tty;
    if (tty) {
        e.master = std::move(fds[0]);
    } else {
        e.stdin_fd = std::move(fds[0]);
        e.stdout_fd = std::move(fds[1]);
        e.stderr_fd = std::move(fds[2]);
    }
    return e;
}

int ExecSession::wait() { return parse_exit_reply(read_reply(control.get(), "exec", "exec", nullptr)); }

void start(const std::string& state_dir) { control_request(state_dir, "start"); }

void stop(const std::string& state_dir, int signal, int timeout_seconds) {
    control_request(state_dir, "stop " + std::to_string(signal) + " " + std::to_string(timeout_seconds));
}

int wait(const std::string& state_dir) { return parse_exit_reply(control_request(state_dir, "wait")); }

void unframe(std::string& buffer, std::string& out, std::string& err) {
    while (buffer.size() >= 8) {
        auto b = [&](size_t i) { return static_cast<unsigned char>(buffer[i]); };
        size_t length = (size_t{b(4)} << 24) | (size_t{b(5)} << 16) | (size_t{b(6)} << 8) | b(7);
        if (buffer.size() < 8 + length)
            return;
        (b(0) == 2 ? err : out).append(buffer, 8, length);
        buffer.erase(0, 8 + length);
    }
}

} // namespace shim
