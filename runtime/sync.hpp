// The create-time conversation between droplet and the processes it forks (a SOCK_SEQPACKET
// socketpair: one message per send, EOF when the peer dies). The children never throw across
// the fork: they send `error` with the text and exit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fd.hpp"

namespace droplet {

enum class SyncType : uint32_t {
    error = 1,      // child → parent: payload is the error text
    userns_ready,   // intermediate → parent: write my uid_map/gid_map
    userns_mapped,  // parent → intermediate
    init_pid,       // intermediate → parent: payload is the init's pid (decimal)
    hooks_request,  // init → parent: mounts are ready, run prestart/createRuntime
    hooks_done,     // parent → init: payload is the state JSON for the in-container hooks
    created,        // init → parent: parked, waiting for `start`
    console,        // init → parent: carries the pty master opened in the container's devpts
    cgroup_ready,   // parent → intermediate: you are in the container's cgroup
    init_pid_known, // parent → init: your pid is recorded; only now may you report progress
};

struct SyncMessage {
    SyncType type{};
    std::string payload;
    raind::UniqueFd fd; // passed with SCM_RIGHTS (SyncType::console)
};

class SyncSocket {
public:
    SyncSocket() = default;
    explicit SyncSocket(raind::UniqueFd fd) : fd_(std::move(fd)) {}

    // Both ends, close-on-exec.
    static std::pair<SyncSocket, SyncSocket> make_pair();

    // Throws on failure (parent side); the child side uses send_noexcept.
    void send(SyncType type, std::string_view payload = {});
    bool send_noexcept(SyncType type, std::string_view payload = {}) noexcept;
    // Sends `fd` along with the message.
    void send_fd(SyncType type, int fd);
    // Returns false on EOF (the peer is gone).
    bool receive(SyncMessage& message);

    int fd() const { return fd_.get(); }
    // Renumbers the socket to `min` or above (close-on-exec), out of a range of fds that is
    // about to be passed to a container process.
    void move_above(int min);
    void close() { fd_.reset(); }

private:
    raind::UniqueFd fd_;
};

} // namespace droplet
