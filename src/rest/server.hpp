// The HTTP side of condenser-rest: Docker's Engine API served on a listening socket.
#pragma once

#include <atomic>
#include <memory>
#include <string_view>

#include "fd.hpp"

namespace raind::rest {

// The Engine API version we answer as (Docker 20.10, what Debian 12's docker CLI speaks).
inline constexpr std::string_view docker_api_version = "1.41";

class Server {
public:
    Server();
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Serves on `listener` until stop(), then closes it without shutting it down (a
    // socket systemd passed keeps listening for the next start). Throws raind::Error
    // when the socket stops accepting for another reason.
    void serve(UniqueFd listener);
    // From any thread, before, during or after serve(); takes effect within 200 ms.
    void stop() noexcept;

private:
    class Http;
    std::unique_ptr<Http> http_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> serving_{false};
};

} // namespace raind::rest
