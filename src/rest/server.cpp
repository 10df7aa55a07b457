#include "server.hpp"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "error.hpp"
#include "raind-config.h"

namespace raind::rest {

// httplib can only bind sockets itself; this is the hook that lets it serve one
// systemd bound for us (svr_sock_ is protected, listen_after_bind() public).
class Server::Http : public httplib::Server {
public:
    bool serve_on(int fd) {
        svr_sock_ = fd;
        return listen_after_bind();
    }
    // httplib's own stop() shutdown()s the listening socket to wake its accept(). That
    // socket is systemd's too: it would see POLLHUP and fail condenser-rest.socket. So
    // the accept loop polls (set_idle_interval) and ends when it finds no socket here.
    void leave_socket() { svr_sock_ = INVALID_SOCKET; }
};

namespace {

void no_cache(httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache, no-store, must-revalidate");
    res.set_header("Pragma", "no-cache");
}

// GET/HEAD /_ping and /vX.Y/_ping: how a Docker client finds out it reached an engine
// and which API version that engine speaks.
void ping(const httplib::Request&, httplib::Response& res) {
    no_cache(res);
    res.set_header("Api-Version", std::string(docker_api_version));
    res.set_header("OSType", "linux");
    res.set_content("OK", "text/plain; charset=utf-8");
}

} // namespace

Server::Server() : http_(std::make_unique<Http>()) {
    http_->set_idle_interval(std::chrono::milliseconds(200)); // how soon stop() takes effect
    http_->set_default_headers({{"Server", "condenser-rest/" RAIND_VERSION " (linux)"}});
    http_->Get(R"(/(v[0-9]+\.[0-9]+/)?_ping)", ping);
    // Docker clients show the "message" of an error body to the user.
    http_->set_error_handler([](const httplib::Request& req, httplib::Response& res) {
        if (res.status == 404)
            res.set_content(R"({"message":"page not found: )" + req.path + R"("})", "application/json");
    });
}

Server::~Server() = default;

void Server::serve(UniqueFd listener) {
    // serving_ before stopping_, stop() the other way round: one of them sees the other.
    serving_ = true;
    if (stopping_) {
        serving_ = false;
        return;
    }
    bool ok = http_->serve_on(listener.get());
    serving_ = false;
    if (!ok) {
        listener.release(); // httplib closed it on its way out
        if (!stopping_)
            throw Error("the listening socket stopped accepting connections");
    }
}

void Server::stop() noexcept {
    stopping_ = true;
    // The accept loop only looks for the socket once it runs; wait for that, briefly.
    while (serving_ && !http_->is_running())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    http_->leave_socket();
}

} // namespace raind::rest
