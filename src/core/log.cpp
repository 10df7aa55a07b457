#include "log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <string>

#include "fd.hpp"

namespace raind::log {
namespace {

struct State {
    std::string program = "raind";
    Level min_level = Level::warning;
    Format format = Format::text;
    UniqueFd file;
};

State& state() {
    static State s;
    return s;
}

const char* name(Level level) {
    switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
    }
    return "error";
}

std::string timestamp() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
    return buf;
}

void write_all(int fd, std::string_view s) {
    while (!s.empty()) {
        ssize_t n = ::write(fd, s.data(), s.size());
        if (n <= 0)
            return; // logging never fails the caller
        s.remove_prefix(static_cast<size_t>(n));
    }
}

} // namespace

void configure(std::string_view program, Level min_level, std::string_view file, Format format) {
    State& s = state();
    s.program = program;
    s.min_level = min_level;
    s.format = format;
    s.file.reset();
    if (!file.empty())
        s.file.reset(::open(std::string(file).c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
}

void write(Level level, std::string_view message) {
    State& s = state();
    if (level < s.min_level)
        return;
    if (s.file) {
        std::string line;
        if (s.format == Format::json)
            line = nlohmann::json{{"level", name(level)}, {"msg", message}, {"time", timestamp()}}.dump() + "\n";
        else
            line = timestamp() + " " + name(level) + ": " + std::string(message) + "\n";
        write_all(s.file.get(), line);
    }
    // Without a log file, or for anything a person must see, stderr gets one line.
    if (!s.file || level >= Level::warning) {
        std::string line = s.program + ": ";
        if (level == Level::warning)
            line += "warning: ";
        line.append(message);
        line += '\n';
        write_all(STDERR_FILENO, line);
    }
}

} // namespace raind::log
