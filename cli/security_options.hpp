// --security-opt as CreateContainer options. `seccomp=FILE` names a file on the client's side,
// as with Docker's CLI: the file's content travels as "seccomp_profile", so the daemon never
// opens a path the user gave. The rest (no-new-privileges, seccomp=unconfined) go as they are.
#pragma once

#include <sdbus-c++/Types.h>

#include <map>
#include <string>
#include <vector>

namespace raind::cli {

// Throws raind::Error naming the file when it cannot be read or is not JSON.
void add_security_options(const std::vector<std::string>& security_opt, std::map<std::string, sdbus::Variant>& options);

} // namespace raind::cli
