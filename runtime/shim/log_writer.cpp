#include "log_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include <cstdio>

#include "error.hpp"

namespace shim {

bool journald_available() {
    struct stat st{};
    return ::stat("/run/systemd/journal/socket", &st) == 0 && S_ISSOCK(st.st_mode);
}

long long now_unix_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

std::string format_log_time(long long unix_ns) {
    time_t seconds = static_cast<time_t>(unix_ns / 1000000000LL);
    tm utc{};
    ::gmtime_r(&seconds, &utc);
    char buf[64];
    size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", unix_ns % 1000000000LL);
    return buf;
}

LogWriter::LogWriter(LogTarget target) : target_(std::move(target)) {
    if (target_.path.empty())
        return;
    file_.reset(::open(target_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640));
    if (!file_)
        raind::throw_errno("open log file " + target_.path);
}

void LogWriter::write(Stream stream, std::string_view data) {
    while (!data.empty()) {
        size_t nl = data.find('\n');
        if (nl == std::string_view::npos) {
            write_line(stream, data, true);
            return;
        }
        write_line(stream, data.substr(0, nl), false);
        data.remove_prefix(nl + 1);
    }
}

void LogWriter::write_line(Stream stream, std::string_view text, bool partial) {
    const char* name = stream == Stream::stdout_stream ? "stdout" : "stderr";
    if (file_) {
        // One write per line, so a reader never sees half a record from us.
        std::string head = format_log_time(now_unix_ns()) + " " + name + (partial ? " P " : " F ");
        iovec parts[3] = {{head.data(), head.size()},
                          {const_cast<char*>(text.data()), text.size()},
                          {const_cast<char*>("\n"), 1}};
        // A full disk loses log lines, never the container: nothing to do but go on.
        [[maybe_unused]] ssize_t n = ::writev(file_.get(), parts, 3);
    }
    if (target_.journald) {
        const std::string& ident = target_.container_name.empty() ? target_.container_id : target_.container_name;
        sd_journal_send("MESSAGE=%.*s", static_cast<int>(text.size()), text.data(),
                        "CONTAINER_ID=%s", target_.container_id.c_str(),
                        "CONTAINER_NAME=%s", target_.container_name.c_str(),
                        "SYSLOG_IDENTIFIER=%s", ident.c_str(),
                        "PRIORITY=%d", stream == Stream::stdout_stream ? 6 : 3,
                        "CONTAINER_PARTIAL_MESSAGE=%s", partial ? "true" : "false", nullptr);
    }
}

} // namespace shim
