// The parts of an image config (OCI image-spec config / Docker container config) a container
// is created from.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "digest.hpp"

namespace raind::images {

struct ImageConfig {
    std::string created;
    std::string os;
    std::string architecture;
    std::string variant;
    std::string user;
    std::string working_dir;
    std::string stop_signal;
    std::vector<std::string> env;           // "KEY=value"
    std::vector<std::string> entrypoint;
    std::vector<std::string> cmd;
    std::vector<std::string> exposed_ports; // "80/tcp", sorted
    std::vector<std::string> volumes;       // sorted
    std::map<std::string, std::string> labels;
    std::vector<Digest> diff_ids;

    // Throws Error naming the field that has the wrong type.
    static ImageConfig parse(std::string_view json);
};

} // namespace raind::images
