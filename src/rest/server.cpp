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
    if (stopping_)
        return;
    serving_ = true;
    bool ok = http_->serve_on(listener.release());
    serving_ = false;
    if (!ok && !stopping_)
        throw Error("the listening socket stopped accepting connections");
}

void Server::stop() noexcept {
    stopping_ = true;
    // httplib ignores stop() until its accept loop runs; wait for that, briefly.
    while (serving_ && !http_->is_running())
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    http_->stop();
}

} // namespace raind::rest
