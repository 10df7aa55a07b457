#include "shim.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "control.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "log_writer.hpp"
#include "state_files.hpp"

namespace shim {
namespace {

long long monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// An attached client: its end of the stream socket, and input it sent that the container
// has not taken yet (we stop reading from it until that is written).
struct Client {
    raind::UniqueFd fd;
    bool input_open = true;
    std::string pending;
};

// A control connection that has not sent its full command line yet.
struct Request {
    raind::UniqueFd fd;
    std::string line;
};

class Shim {
public:
    Shim(const ShimOptions& options, int ready_fd);
    int run();

private:
    // Container lifecycle.
    std::string create_container(); // "" or the runtime's error
    std::string start_container();
    void on_container_exit(int status);
    void finish(); // no restart: clean up and leave the loop
    void kill_container(int signal);
    void request_stop(int signal, int timeout_seconds);
    void write_state();
    bool stop_marker_present() const;

    // I/O.
    void pump_output(int fd, Stream stream);
    void drain_output();
    void close_output();
    void broadcast(Stream stream, std::string_view data);
    void on_client_input(Client& client);
    bool flush_client_input(Client& client);
    void on_control_request(Request& request);
    void handle_command(int fd, const std::string& line);
    void exec_process(int fd, bool tty, const std::string& process_file);
    void reap_children();

    ShimOptions opt_;
    int ready_fd_;
    LogWriter log_;
    raind::UniqueFd signal_fd_, listen_fd_;

    pid_t container_pid_ = 0;
    raind::UniqueFd master_, stdout_read_, stderr_read_, stdin_write_;
    std::string status_ = "creating";
    int restarts_ = 0;
    std::optional<int> last_status_;
    bool stop_requested_ = false;
    bool done_ = false;
    long long kill_deadline_ = 0; // monotonic ms, 0: none
    long long restart_at_ = 0;

    std::vector<std::unique_ptr<Client>> clients_;
    std::vector<std::unique_ptr<Request>> requests_;
    std::vector<raind::UniqueFd> waiters_;
    // Exec'd processes (our children too, as we are their subreaper) and the connection that
    // gets their status.
    struct ExecProcess {
        pid_t pid;
        raind::UniqueFd reply;
    };
    std::vector<ExecProcess> execs_;
    int exec_count_ = 0;

    std::string path(const char* name) const { return opt_.state_dir + "/" + name; }
};

LogTarget log_target(const ShimOptions& o) {
    bool journal = o.journald == "yes" || (o.journald == "auto" && journald_available());
    return LogTarget{o.log_path, journal, o.id, o.name};
}

Shim::Shim(const ShimOptions& options, int ready_fd) : opt_(options), ready_fd_(ready_fd), log_(log_target(options)) {
    sigset_t mask;
    ::sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT})
        ::sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal_fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signal_fd_)
        raind::throw_errno("signalfd");
}

std::string Shim::create_container() {
    std::vector<std::string> args{"create", "--bundle", opt_.bundle, "--pid-file", path("container.pid")};
    ::unlink(path("container.pid").c_str());
    raind::UniqueFd console_listen;
    raind::UniqueFd in_read, out_write, err_write;
    if (opt_.terminal) {
        console_listen = listen_control(path("console.sock"));
        args.insert(args.end(), {"--console-socket", path("console.sock")});
    } else {
        int in[2] = {-1, -1}, out[2], err[2];
        if ((opt_.stdin_open && ::pipe2(in, O_CLOEXEC) < 0) || ::pipe2(out, O_CLOEXEC) < 0 ||
            ::pipe2(err, O_CLOEXEC) < 0)
            raind::throw_errno("pipe for the container's stdio");
        in_read.reset(in[0]);
        stdin_write_.reset(in[1]);
        stdout_read_.reset(out[0]);
        out_write.reset(out[1]);
        stderr_read_.reset(err[0]);
        err_write.reset(err[1]);
        set_nonblocking(stdout_read_.get());
        set_nonblocking(stderr_read_.get());
        if (stdin_write_)
            set_nonblocking(stdin_write_.get());
    }
    args.push_back(opt_.id);
    // Without a terminal the runtime passes its own stdio on to the container, so its
    // error text (if any) arrives on the container's stderr pipe.
    RuntimeResult r = run_runtime(opt_.runtime, args, in_read.get(), out_write.get(), err_write.get());
    in_read.reset();
    out_write.reset();
    err_write.reset();
    if (console_listen)
        ::unlink(path("console.sock").c_str());
    if (r.status != 0) {
        std::string error = r.error;
        if (stderr_read_) {
            char buf[4096];
            for (ssize_t n; (n = ::read(stderr_read_.get(), buf, sizeof buf)) > 0;)
                error.append(buf, static_cast<size_t>(n));
        }
        close_output();
        while (!error.empty() && error.back() == '\n')
            error.pop_back();
        return "create failed (" + opt_.runtime.path + " exited with " + std::to_string(r.status) +
               "): " + (error.empty() ? "no error message" : error);
    }
    std::string pid_text = read_text_file(path("container.pid"));
    container_pid_ = static_cast<pid_t>(std::atoi(pid_text.c_str()));
    if (container_pid_ <= 0)
        return "create succeeded but the pid file " + path("container.pid") + " holds no pid";
    if (console_listen) {
        pollfd p{console_listen.get(), POLLIN, 0};
        raind::UniqueFd conn;
        if (::poll(&p, 1, 5000) > 0)
            conn.reset(::accept4(console_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (conn)
            master_ = receive_one_fd(conn.get());
        if (!master_)
            return "the runtime did not send the pty master over the console socket";
        set_nonblocking(master_.get());
    }
    status_ = "created";
    write_state();
    return {};
}

std::string Shim::start_container() {
    RuntimeResult r = run_runtime(opt_.runtime, {"start", opt_.id});
    if (r.status != 0)
        return "start failed (" + opt_.runtime.path + " exited with " + std::to_string(r.status) + "): " + r.error;
    status_ = "running";
    write_state();
    return {};
}

void Shim::write_state() {
    nlohmann::json j{{"id", opt_.id},          {"shim_pid", ::getpid()}, {"container_pid", container_pid_},
                     {"status", status_},      {"restarts", restarts_}, {"stop_requested", stop_requested_}};
    if (last_status_)
        j["exit_status"] = *last_status_;
    write_file_atomically(path("shim.json"), j.dump() + "\n");
}

bool Shim::stop_marker_present() const {
    struct stat st{};
    return ::stat(path("stop").c_str(), &st) == 0;
}

void Shim::pump_output(int fd, Stream stream) {
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            std::string_view data(buf, static_cast<size_t>(n));
            log_.write(stream, data);
            broadcast(stream, data);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        // EAGAIN: nothing more now. EOF or EIO (pty slave gone): the stream is over.
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            if (fd == master_.get())
                master_.reset();
            else if (fd == stdout_read_.get())
                stdout_read_.reset();
            else if (fd == stderr_read_.get())
                stderr_read_.reset();
        }
        return;
    }
}

void Shim::drain_output() {
    if (master_)
        pump_output(master_.get(), Stream::stdout_stream);
    if (stdout_read_)
        pump_output(stdout_read_.get(), Stream::stdout_stream);
    if (stderr_read_)
        pump_output(stderr_read_.get(), Stream::stderr_stream);
}

void Shim::close_output() {
    master_.reset();
    stdout_read_.reset();
    stderr_read_.reset();
    stdin_write_.reset();
}

void Shim::broadcast(Stream stream, std::string_view data) {
    std::string framed;
    if (!opt_.terminal) {
        framed.resize(8);
        framed[0] = stream == Stream::stdout_stream ? 1 : 2;
        uint32_t n = static_cast<uint32_t>(data.size());
        for (int i = 0; i < 4; ++i)
            framed[4 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
        framed.append(data);
        data = framed;
    }
    for (auto it = clients_.begin(); it != clients_.end();) {
        // A client that cannot keep up is dropped rather than stalling the container's output.
        ssize_t n = ::send((*it)->fd.get(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != static_cast<ssize_t>(data.size()))
            it = clients_.erase(it);
        else
            ++it;
    }
}

bool Shim::flush_client_input(Client& client) {
    int target = opt_.terminal ? master_.get() : stdin_write_.get();
    if (target < 0) {
        client.pending.clear();
        return true;
    }
    while (!client.pending.empty()) {
        ssize_t n = ::write(target, client.pending.data(), client.pending.size());
        if (n < 0)
            return errno == EAGAIN; // keep the rest for later; other errors drop the input
        client.pending.erase(0, static_cast<size_t>(n));
    }
    return true;
}

void Shim::on_client_input(Client& client) {
    char buf[4096];
    ssize_t n = ::recv(client.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        client.input_open = false;
        if (opt_.stdin_once && !opt_.terminal)
            stdin_write_.reset();
        return;
    }
    client.pending.append(buf, static_cast<size_t>(n));
    if (!flush_client_input(client))
        client.pending.clear();
}

void Shim::handle_command(int fd, const std::string& line) {
    if (line == "attach") {
        if (status_ != "created" && status_ != "running") {
            send_reply(fd, "error container " + opt_.id + " is " + status_);
            return;
        }
        int pair[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
            send_reply(fd, std::string("error socketpair: ") + std::strerror(errno));
            return;
        }
        auto client = std::make_unique<Client>();
        client->fd.reset(pair[0]);
        raind::UniqueFd theirs(pair[1]);
        int buffer = 1 << 20;
        ::setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
        std::vector<int> fds{theirs.get()};
        if (opt_.terminal && master_)
            fds.push_back(master_.get());
        if (send_reply(fd, opt_.terminal ? "ok tty" : "ok pipes", fds))
            clients_.push_back(std::move(client));
    } else if (line == "start") {
        if (status_ != "created") {
            send_reply(fd, "error container " + opt_.id + " is " + status_ + ", not created");
            return;
        }
        std::string error = start_container();
        send_reply(fd, error.empty() ? "ok" : "error " + error);
    } else if (line.rfind("stop ", 0) == 0) {
        int signal = 0, timeout = 0;
        if (std::sscanf(line.c_str(), "stop %d %d", &signal, &timeout) != 2 || signal <= 0 || signal >= 65 ||
            timeout < 0) {
            send_reply(fd, "error invalid stop command '" + line + "': expected 'stop <signal number> <seconds>'");
            return;
        }
        request_stop(signal, timeout);
        send_reply(fd, "ok");
    } else if (line.rfind("exec tty ", 0) == 0 || line.rfind("exec pipes ", 0) == 0) {
        bool tty = line.rfind("exec tty ", 0) == 0;
        if (status_ != "running") {
            send_reply(fd, "error container " + opt_.id + " is " + status_ + ", not running");
            return;
        }
        exec_process(fd, tty, line.substr(tty ? 9 : 11));
    } else if (line == "wait") {
        waiters_.emplace_back(::dup(fd)); // answered when the shim is done
        ::fcntl(waiters_.back().get(), F_SETFD, FD_CLOEXEC);
    } else {
        send_reply(fd, "error unknown command '" + line + "': expected start, stop, attach, exec or wait");
    }
}

void Shim::exec_process(int fd, bool tty, const std::string& process_file) {
    std::string n = std::to_string(++exec_count_);
    std::string pid_file = path(("exec-" + n + ".pid").c_str());
    std::vector<std::string> args{"exec", "--detach", "--pid-file", pid_file, "--process", process_file};
    raind::UniqueFd console_listen, in_read, in_write, out_read, out_write, err_read, err_write;
    std::string sock = path(("exec-" + n + ".sock").c_str());
    if (tty) {
        console_listen = listen_control(sock);
        args.insert(args.end(), {"--tty", "--console-socket", sock});
    } else {
        int in[2], out[2], err[2];
        if (::pipe2(in, O_CLOEXEC) < 0 || ::pipe2(out, O_CLOEXEC) < 0 || ::pipe2(err, O_CLOEXEC) < 0) {
            send_reply(fd, std::string("error pipe: ") + std::strerror(errno));
            return;
        }
        in_read.reset(in[0]);
        in_write.reset(in[1]);
        out_read.reset(out[0]);
        out_write.reset(out[1]);
        err_read.reset(err[0]);
        err_write.reset(err[1]);
    }
    args.push_back(opt_.id);
    RuntimeResult r = run_runtime(opt_.runtime, args, in_read.get(), out_write.get(), err_write.get());
    in_read.reset();
    out_write.reset();
    err_write.reset();
    ::unlink(sock.c_str());
    std::string pid_text = read_text_file(pid_file);
    ::unlink(pid_file.c_str());
    if (r.status != 0) {
        std::string error = r.error;
        if (err_read) {
            ::fcntl(err_read.get(), F_SETFL, O_NONBLOCK);
            char buf[4096];
            for (ssize_t k; (k = ::read(err_read.get(), buf, sizeof buf)) > 0;)
                error.append(buf, static_cast<size_t>(k));
        }
        while (!error.empty() && error.back() == '\n')
            error.pop_back();
        send_reply(fd, "error exec failed (" + opt_.runtime.path + " exited with " + std::to_string(r.status) +
                           "): " + error);
        return;
    }
    pid_t pid = static_cast<pid_t>(std::atoi(pid_text.c_str()));
    std::vector<int> fds;
    raind::UniqueFd master;
    if (tty) {
        pollfd p{console_listen.get(), POLLIN, 0};
        raind::UniqueFd conn;
        if (::poll(&p, 1, 5000) > 0)
            conn.reset(::accept4(console_listen.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (conn)
            master = receive_one_fd(conn.get());
        if (!master) {
            send_reply(fd, "error the runtime did not send the exec's pty master");
            return;
        }
        fds.push_back(master.get());
    } else {
        fds = {in_write.get(), out_read.get(), err_read.get()};
    }
    // The exec's output is the client's alone (not logged): with a pty it owns the master.
    if (!send_reply(fd, std::string(tty ? "ok tty " : "ok pipes ") + std::to_string(pid), fds) || pid <= 0)
        return;
    execs_.push_back(ExecProcess{pid, raind::UniqueFd(::fcntl(fd, F_DUPFD_CLOEXEC, 3))});
}

void Shim::on_control_request(Request& request) {
    char buf[256];
    ssize_t n = ::recv(request.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0 || request.line.size() > 1024) {
        request.fd.reset();
        return;
    }
    request.line.append(buf, static_cast<size_t>(n));
    size_t nl = request.line.find('\n');
    if (nl == std::string::npos)
        return;
    handle_command(request.fd.get(), request.line.substr(0, nl));
    request.fd.reset();
}

void Shim::kill_container(int signal) {
    RuntimeResult r = run_runtime(opt_.runtime, {"kill", opt_.id, std::to_string(signal)});
    // The runtime may refuse (its state may be gone); the init is our child, so signal it directly.
    if (r.status != 0 && container_pid_ > 0)
        ::kill(container_pid_, signal);
}

void Shim::request_stop(int signal, int timeout_seconds) {
    stop_requested_ = true;
    write_state();
    if (status_ == "restarting") {
        finish();
        return;
    }
    if (container_pid_ <= 0)
        return;
    kill_container(signal);
    kill_deadline_ = monotonic_ms() + timeout_seconds * 1000LL;
}

void Shim::on_container_exit(int wait_status) {
    int status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
    last_status_ = status;
    container_pid_ = 0;
    kill_deadline_ = 0;
    drain_output();
    close_output();
    clients_.clear(); // attached clients see the end of the stream
    nlohmann::json exit{{"status", status},
                        {"exit_code", WIFEXITED(wait_status) ? nlohmann::json(status) : nlohmann::json(nullptr)},
                        {"signal", WIFSIGNALED(wait_status) ? nlohmann::json(WTERMSIG(wait_status)) : nlohmann::json(nullptr)},
                        {"time", format_log_time(now_unix_ns())},
                        {"restarts", restarts_}};
    write_file_atomically(path("exit"), exit.dump() + "\n");
    // The container is gone; its runtime state only stands in the way of the next create.
    run_runtime(opt_.runtime, {"delete", "--force", opt_.id});
    if (should_restart(opt_.restart, status, restarts_, stop_requested_ || stop_marker_present())) {
        status_ = "restarting";
        restart_at_ = monotonic_ms() + restart_delay_ms(restarts_);
        write_state();
        return;
    }
    finish();
}

void Shim::finish() {
    status_ = "exited";
    restart_at_ = 0;
    done_ = true;
    clients_.clear();
    if (opt_.remove) {
        for (const char* name : {"shim.json", "exit", control_socket_name, "container.pid", "stop"})
            ::unlink(path(name).c_str());
        ::rmdir(opt_.state_dir.c_str()); // only when nobody else put files there
    } else {
        // shim.json says exited before the control socket goes: a client that finds no socket
        // (and falls back to the files) never reads a stale "running".
        write_state();
        ::unlink(path(control_socket_name).c_str());
        ::unlink(path("container.pid").c_str());
    }
    // Last, so a waiter that got its answer finds the files as they stay.
    std::string reply = "exit " + std::to_string(last_status_.value_or(-1));
    for (raind::UniqueFd& w : waiters_)
        send_reply(w.get(), reply);
    waiters_.clear();
}

void Shim::reap_children() {
    int wait_status;
    for (pid_t pid; (pid = ::waitpid(-1, &wait_status, WNOHANG)) > 0;) {
        if (pid == container_pid_)
            on_container_exit(wait_status);
        for (auto it = execs_.begin(); it != execs_.end(); ++it) {
            if (it->pid != pid)
                continue;
            int status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
            send_reply(it->reply.get(), "exit " + std::to_string(status));
            execs_.erase(it);
            break;
        }
    }
}

int Shim::run() {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
        raind::throw_errno("become a child subreaper");
    listen_fd_ = listen_control(path(control_socket_name));
    std::string error = create_container();
    if (error.empty() && opt_.start)
        error = start_container();
    if (!error.empty()) {
        if (container_pid_ > 0)
            run_runtime(opt_.runtime, {"delete", "--force", opt_.id});
        reap_children();
        std::string line = "error " + error + "\n";
        [[maybe_unused]] ssize_t n = ::write(ready_fd_, line.data(), line.size());
        opt_.remove = true; // nothing ran: leave nothing of ours
        finish();
        return 1;
    }
    std::string line = "ok " + std::to_string(container_pid_) + "\n";
    [[maybe_unused]] ssize_t n = ::write(ready_fd_, line.data(), line.size());
    ::close(ready_fd_);

    while (!done_) {
        std::vector<pollfd> fds;
        fds.push_back({signal_fd_.get(), POLLIN, 0});
        fds.push_back({listen_fd_.get(), POLLIN, 0});
        for (int fd : {master_.get(), stdout_read_.get(), stderr_read_.get()})
            fds.push_back({fd, POLLIN, 0});
        size_t first_client = fds.size();
        for (auto& c : clients_) {
            int target = opt_.terminal ? master_.get() : stdin_write_.get();
            if (!c->pending.empty())
                fds.push_back({target, POLLOUT, 0});
            else
                fds.push_back({c->input_open ? c->fd.get() : -1, POLLIN, 0});
        }
        size_t first_request = fds.size();
        for (auto& r : requests_)
            fds.push_back({r->fd.get(), POLLIN, 0});

        long long now = monotonic_ms();
        long long deadline = 0;
        for (long long d : {kill_deadline_, restart_at_})
            if (d > 0 && (deadline == 0 || d < deadline))
                deadline = d;
        int timeout = deadline == 0 ? -1 : static_cast<int>(deadline > now ? deadline - now : 0);
        if (::poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR)
            raind::throw_errno("poll");

        // Output first, so what the container printed before exiting is logged before its exit.
        if (fds[2].revents)
            pump_output(master_.get(), Stream::stdout_stream);
        if (fds[3].revents)
            pump_output(stdout_read_.get(), Stream::stdout_stream);
        if (fds[4].revents)
            pump_output(stderr_read_.get(), Stream::stderr_stream);
        for (size_t i = 0; i < clients_.size() && first_client + i < first_request; ++i) {
            Client& c = *clients_[i];
            if (!fds[first_client + i].revents)
                continue;
            if (!c.pending.empty()) {
                if (!flush_client_input(c))
                    c.pending.clear();
            } else {
                on_client_input(c);
            }
        }
        for (size_t i = 0; i < requests_.size(); ++i)
            if (fds[first_request + i].revents)
                on_control_request(*requests_[i]);
        std::erase_if(requests_, [](const auto& r) { return !r->fd; });
        if (fds[1].revents & POLLIN) {
            for (int conn; (conn = ::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0;)
                requests_.push_back(std::make_unique<Request>(Request{raind::UniqueFd(conn), {}}));
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info;
            while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT)
                    request_stop(SIGTERM, 10); // the shim being stopped stops its container, gracefully
            }
            reap_children();
        }
        now = monotonic_ms();
        if (kill_deadline_ > 0 && now >= kill_deadline_) {
            kill_deadline_ = 0;
            kill_container(SIGKILL);
        }
        if (restart_at_ > 0 && now >= restart_at_ && !done_) {
            restart_at_ = 0;
            ++restarts_;
            std::string err = create_container();
            if (err.empty())
                err = start_container();
            if (!err.empty()) {
                log_.write(Stream::stderr_stream, "droplet-shim: restart failed: " + err + "\n");
                if (container_pid_ > 0)
                    kill_container(SIGKILL); // its exit ends the shim: no restart after a failed one
                else
                    finish();
                stop_requested_ = true;
            }
        }
    }
    return 0;
}

} // namespace

int run_shim(const ShimOptions& options, int ready_fd) {
    try {
        Shim shim(options, ready_fd);
        return shim.run();
    } catch (const std::exception& e) {
        std::string line = std::string("error ") + e.what() + "\n";
        [[maybe_unused]] ssize_t n = ::write(ready_fd, line.data(), line.size());
        return 1;
    }
}

} // namespace shim
