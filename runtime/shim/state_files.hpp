// Small file and fd helpers for the shim's state directory.
#pragma once

#include <string>

#include "fd.hpp"

namespace shim {

// Writes via a temporary file and rename, so readers see the old or the new content, never half.
void write_file_atomically(const std::string& path, const std::string& content);
// The whole file; empty when it cannot be read.
std::string read_text_file(const std::string& path);
// The first fd a message on `socket` carries (SCM_RIGHTS); empty when there is none.
raind::UniqueFd receive_one_fd(int socket);

} // namespace shim
