// A container's log (the CRI-format file its shim writes) streamed to a client through a pipe,
// in Docker's attach frames (stream 1 = stdout, 2 = stderr), optionally following it until the
// container exits, the client goes away or condenser stops.
#pragma once

#include <map>
#include <sdbus-c++/Types.h>
#include <stop_token>
#include <string>

#include "fd.hpp"
#include "log_reader.hpp"

namespace condenser {

struct LogOptions {
    shim::LogQuery query;
    bool follow = false;
    bool timestamps = false;
};

// "follow" b, "tail" x (-1: all), "since" x (unix seconds), "timestamps" b; unknown keys and
// wrong types are refused by name (InvalidContainerArgument).
LogOptions parse_log_options(const std::map<std::string, sdbus::Variant>& options);

// Writes the entries of `log_path` to `out` (a pipe) until done; with follow, until
// `exited_fd` (if >= 0) becomes readable, the reader closes the pipe, or `stop` is requested.
void stream_log(const std::string& log_path, const LogOptions& options, raind::UniqueFd out, int exited_fd,
                std::stop_token stop);

} // namespace condenser
