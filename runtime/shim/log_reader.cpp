#include "log_reader.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include <charconv>
#include <deque>

#include "error.hpp"
#include "fd.hpp"

namespace shim {
namespace {

bool parse_int(std::string_view s, int& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

// Turns appended bytes into messages, carrying P fragments and unfinished lines over.
class Assembler {
public:
    template <typename Emit>
    void feed(std::string_view data, Emit&& emit) {
        buffer_.append(data);
        size_t start = 0;
        for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
            auto rec = parse_log_record(std::string_view(buffer_).substr(start, nl - start));
            if (!rec)
                continue;
            Pending& pending = rec->stream == "stderr" ? pending_err_ : pending_out_;
            pending.text.append(rec->text);
            pending.time_ns = rec->time_ns;
            if (rec->partial)
                continue;
            emit(LogEntry{rec->time_ns, std::string(rec->stream), std::exchange(pending.text, {}), true});
        }
        buffer_.erase(0, start);
    }
    // Partial lines without their F yet, as incomplete entries.
    template <typename Emit>
    void flush_partial(Emit&& emit) {
        if (!pending_out_.text.empty())
            emit(LogEntry{pending_out_.time_ns, "stdout", std::exchange(pending_out_.text, {}), false});
        if (!pending_err_.text.empty())
            emit(LogEntry{pending_err_.time_ns, "stderr", std::exchange(pending_err_.text, {}), false});
    }

private:
    struct Pending {
        std::string text;
        long long time_ns = 0;
    };
    std::string buffer_;
    Pending pending_out_, pending_err_;
};

std::string read_from(int fd) {
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
        out.append(buf, static_cast<size_t>(n));
    return out;
}

} // namespace

std::optional<long long> parse_log_time(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
    if (s.size() < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return std::nullopt;
    tm t{};
    int year, mon, sec;
    if (!parse_int(s.substr(0, 4), year) || !parse_int(s.substr(5, 2), mon) || !parse_int(s.substr(8, 2), t.tm_mday) ||
        !parse_int(s.substr(11, 2), t.tm_hour) || !parse_int(s.substr(14, 2), t.tm_min) ||
        !parse_int(s.substr(17, 2), sec))
        return std::nullopt;
    t.tm_year = year - 1900;
    t.tm_mon = mon - 1;
    t.tm_sec = sec;
    long long ns = 0;
    size_t i = 19;
    if (i < s.size() && s[i] == '.') {
        long long scale = 100000000;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10)
            ns += (s[i] - '0') * scale;
    }
    long long offset = 0;
    if (i < s.size() && (s[i] == '+' || s[i] == '-') && s.size() == i + 6 && s[i + 3] == ':') {
        int h, m;
        if (!parse_int(s.substr(i + 1, 2), h) || !parse_int(s.substr(i + 4, 2), m))
            return std::nullopt;
        offset = (s[i] == '+' ? 1 : -1) * (h * 3600LL + m * 60LL);
    } else if (!(i + 1 == s.size() && s[i] == 'Z')) {
        return std::nullopt;
    }
    return (static_cast<long long>(::timegm(&t)) - offset) * 1000000000LL + ns;
}

std::optional<LogRecord> parse_log_record(std::string_view line) {
    size_t a = line.find(' ');
    if (a == std::string_view::npos)
        return std::nullopt;
    size_t b = line.find(' ', a + 1);
    if (b == std::string_view::npos || b + 2 > line.size())
        return std::nullopt;
    auto time = parse_log_time(line.substr(0, a));
    std::string_view stream = line.substr(a + 1, b - a - 1);
    char tag = line[b + 1];
    if (!time || (stream != "stdout" && stream != "stderr") || (tag != 'P' && tag != 'F') ||
        (b + 2 < line.size() && line[b + 2] != ' '))
        return std::nullopt;
    std::string_view text = b + 3 <= line.size() ? line.substr(b + 3) : std::string_view{};
    return LogRecord{*time, stream, tag == 'P', text};
}

std::vector<LogEntry> read_log(const std::string& path, const LogQuery& query) {
    std::vector<LogEntry> all;
    follow_log(path, query, [&](const LogEntry& e) {
        all.push_back(e);
        return true;
    }, -2);
    return all;
}

void follow_log(const std::string& path, const LogQuery& query, const std::function<bool(const LogEntry&)>& on_entry,
                int stop_fd) {
    // stop_fd == -2 (from read_log): read what is there and return.
    bool follow = stop_fd != -2;
    raind::UniqueFd inotify;
    if (follow) {
        inotify.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
        if (!inotify || ::inotify_add_watch(inotify.get(), path.c_str(), IN_MODIFY) < 0)
            raind::throw_errno("watch log file " + path);
    }
    raind::UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!file) {
        if (!follow && errno == ENOENT)
            return;
        raind::throw_errno("open log file " + path);
    }

    // What is already there, filtered by since and tail.
    Assembler assembler;
    std::deque<LogEntry> backlog;
    auto keep = [&](LogEntry&& e) {
        if (e.time_ns < query.since_ns)
            return;
        backlog.push_back(std::move(e));
        if (query.tail >= 0 && backlog.size() > static_cast<size_t>(query.tail))
            backlog.pop_front();
    };
    assembler.feed(read_from(file.get()), keep);
    if (!follow)
        assembler.flush_partial(keep);
    for (const LogEntry& e : backlog)
        if (!on_entry(e))
            return;
    if (!follow)
        return;

    bool go_on = true;
    auto deliver = [&](LogEntry&& e) {
        if (go_on && e.time_ns >= query.since_ns)
            go_on = on_entry(e);
    };
    while (go_on) {
        pollfd fds[2] = {{inotify.get(), POLLIN, 0}, {stop_fd, POLLIN, 0}};
        if (::poll(fds, stop_fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            raind::throw_errno("poll log file " + path);
        }
        char events[4096];
        while (::read(inotify.get(), events, sizeof events) > 0) {
        }
        assembler.feed(read_from(file.get()), deliver);
        if (stop_fd >= 0 && fds[1].revents)
            return;
    }
}

} // namespace shim
