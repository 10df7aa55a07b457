// The container's output as a log: a file in the CRI (Kubernetes) format that conmon writes,
//   2026-11-23T15:04:05.123456789Z stdout F a full line
//   2026-11-23T15:04:05.123456789Z stderr P a partial line (no newline yet)
// and, when journald runs, one journal entry per line with CONTAINER_ID/CONTAINER_NAME.
#pragma once

#include <string>
#include <string_view>

#include "fd.hpp"

namespace shim {

enum class Stream { stdout_stream, stderr_stream };

struct LogTarget {
    std::string path;          // empty: no file
    bool journald = false;     // send to the journal too
    std::string container_id;
    std::string container_name;
};

// True when journald accepts messages here (its socket exists).
bool journald_available();

// RFC 3339 UTC with nanoseconds, as in the log file.
std::string format_log_time(long long unix_ns);
long long now_unix_ns();

class LogWriter {
public:
    explicit LogWriter(LogTarget target); // opens the file (append); throws on failure
    // A chunk of output as read; full lines are written as F, what follows the last newline as P.
    void write(Stream stream, std::string_view data);

private:
    void write_line(Stream stream, std::string_view text, bool partial);

    LogTarget target_;
    raind::UniqueFd file_;
};

} // namespace shim
