#include "container_logs.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "container_spec.hpp"
#include "error.hpp"
#include "log_writer.hpp"

namespace condenser {
namespace {

template <typename T>
T value_of(const std::string& key, const sdbus::Variant& value, const char* type) {
    if (!value.containsValueOfType<T>())
        throw InvalidContainerArgument("log option \"" + key + "\" must be of D-Bus type " + type + ", not " +
                                       value.peekValueType());
    return value.get<T>();
}

// Writes all of data unless the reader is gone or `wake` (stop) becomes readable first.
bool write_or_stop(int fd, std::string_view data, int wake) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n > 0) {
            data.remove_prefix(static_cast<size_t>(n));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != EAGAIN)
            return false; // EPIPE: the client went away
        pollfd fds[2] = {{fd, POLLOUT, 0}, {wake, POLLIN, 0}};
        ::poll(fds, 2, -1);
        if (fds[1].revents)
            return false;
    }
    return true;
}

std::string frame(const shim::LogEntry& entry, bool timestamps) {
    std::string text = timestamps ? shim::format_log_time(entry.time_ns) + " " + entry.text : entry.text;
    if (entry.complete)
        text += '\n';
    std::string framed(8, '\0');
    framed[0] = entry.stream == "stderr" ? 2 : 1;
    auto size = static_cast<uint32_t>(text.size());
    for (int i = 0; i < 4; ++i)
        framed[4 + i] = static_cast<char>((size >> (24 - 8 * i)) & 0xff);
    return framed + text;
}

} // namespace

LogOptions parse_log_options(const std::map<std::string, sdbus::Variant>& options) {
    LogOptions parsed;
    for (const auto& [key, value] : options) {
        if (key == "follow")
            parsed.follow = value_of<bool>(key, value, "b");
        else if (key == "timestamps")
            parsed.timestamps = value_of<bool>(key, value, "b");
        else if (key == "tail")
            parsed.query.tail = static_cast<int>(value_of<int64_t>(key, value, "x"));
        else if (key == "since")
            parsed.query.since_ns = value_of<int64_t>(key, value, "x") * 1000000000LL;
        else
            throw InvalidContainerArgument("unknown or unsupported log option \"" + key + "\"");
    }
    return parsed;
}

void stream_log(const std::string& log_path, const LogOptions& options, raind::UniqueFd out, int exited_fd,
                std::stop_token stop) {
    ::fcntl(out.get(), F_SETFL, ::fcntl(out.get(), F_GETFL) | O_NONBLOCK);
    raind::UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake)
        raind::throw_errno("eventfd for a log stream");
    std::stop_callback on_stop(stop, [fd = wake.get()] {
        uint64_t one = 1;
        [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
    });
    auto deliver = [&](const shim::LogEntry& entry) {
        return write_or_stop(out.get(), frame(entry, options.timestamps), wake.get());
    };
    if (!options.follow) {
        for (const auto& entry : shim::read_log(log_path, options.query))
            if (!deliver(entry))
                return;
        return;
    }
    // One fd that becomes readable for any reason to stop: the container exited, condenser
    // stops, the client closed its end (EPOLLERR on the write end).
    raind::UniqueFd any(::epoll_create1(EPOLL_CLOEXEC));
    if (!any)
        raind::throw_errno("epoll for a log stream");
    for (int fd : {exited_fd, wake.get(), out.get()}) {
        if (fd < 0)
            continue;
        epoll_event event{};
        event.events = fd == out.get() ? 0u : static_cast<uint32_t>(EPOLLIN);
        event.data.fd = fd;
        if (::epoll_ctl(any.get(), EPOLL_CTL_ADD, fd, &event) < 0)
            raind::throw_errno("epoll_ctl for a log stream");
    }
    shim::follow_log(log_path, options.query, deliver, any.get());
}

} // namespace condenser
