// Reading what LogWriter wrote: for `logs [--tail N] [--since T] [-f]`.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace shim {

// One message: the P fragments before an F are joined, so a long line is one entry.
struct LogEntry {
    long long time_ns = 0; // of the message's last fragment
    std::string stream;    // "stdout" or "stderr"
    std::string text;      // without the newline
    bool complete = true;  // false for a trailing partial line (the container printed no newline yet)
};

// Parses "TIME STREAM P|F TEXT"; nullopt for anything else.
struct LogRecord {
    long long time_ns = 0;
    std::string_view stream;
    bool partial = false;
    std::string_view text;
};
std::optional<LogRecord> parse_log_record(std::string_view line);
// RFC 3339 (with optional fraction and Z or ±hh:mm) to Unix ns; nullopt when malformed.
std::optional<long long> parse_log_time(std::string_view text);

struct LogQuery {
    long long since_ns = 0; // only messages at or after this time
    int tail = -1;          // only the last N messages (-1: all)
};

// Messages of a log file; a missing file has none.
std::vector<LogEntry> read_log(const std::string& path, const LogQuery& query = {});

// Calls `on_entry` for the messages matching `query`, then for every message appended later
// (inotify), until `on_entry` returns false or `stop_fd` (if >= 0) becomes readable; what is
// left in the file when stopping is delivered first. Throws raind::Error when inotify fails.
void follow_log(const std::string& path, const LogQuery& query, const std::function<bool(const LogEntry&)>& on_entry,
                int stop_fd = -1);

} // namespace shim
