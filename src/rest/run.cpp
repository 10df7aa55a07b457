#include "run.hpp"

#include <pthread.h>
#include <signal.h>
#include <systemd/sd-daemon.h>

#include <optional>
#include <thread>

#include "error.hpp"
#include "listen.hpp"
#include "log.hpp"
#include "server.hpp"

namespace raind::rest {
namespace {

// Turns SIGTERM/SIGINT into server.stop() from an ordinary thread (stop() is not
// async-signal-safe). The signals are blocked in every thread, so only sigwait sees them.
class StopOnSignal {
public:
    StopOnSignal(Server& server, const sigset_t& signals)
        : thread_([&server, signals] {
              int sig = 0;
              sigwait(&signals, &sig);
              if (sig != SIGUSR1)
                  sd_notify(0, "STOPPING=1");
              server.stop();
          }) {}
    ~StopOnSignal() {
        // The server ended on its own: wake the waiter so it can be joined.
        pthread_kill(thread_.native_handle(), SIGUSR1);
        thread_.join();
    }
    StopOnSignal(const StopOnSignal&) = delete;
    StopOnSignal& operator=(const StopOnSignal&) = delete;

private:
    std::thread thread_;
};

} // namespace

void run(const Options& options) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGUSR1);
    if (int err = pthread_sigmask(SIG_BLOCK, &signals, nullptr))
        throw_errno("blocking SIGTERM and SIGINT", err);

    std::optional<BoundUnixSocket> own_socket;
    UniqueFd listener;
    if (!options.listen.empty()) {
        own_socket.emplace(parse_listen_address(options.listen).unix_path);
        listener = own_socket->take_fd();
        log::info("listening on " + own_socket->path());
    } else {
        listener = take_systemd_socket(systemd_socket_name);
        if (!listener)
            throw Error("no socket to serve: condenser-rest is started by condenser-rest.socket (systemd socket "
                        "activation); to run it by hand, pass --listen unix:PATH");
    }

    Server server;
    StopOnSignal stop_on_signal(server, signals);
    sd_notify(0, "READY=1");
    server.serve(std::move(listener));
}

} // namespace raind::rest
