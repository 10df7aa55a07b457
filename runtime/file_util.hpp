// Whole-file reads and atomic writes used by the state and pid files.
#pragma once

#include <string>

namespace droplet {

std::string read_file(const std::string& path);
// Writes a temporary file beside `path` and renames it over, so readers never see half a file.
void write_file_atomic(const std::string& path, const std::string& content, unsigned mode = 0600);
// Writes all of `data` to fd, retrying on EINTR and short writes; false on error.
bool write_all(int fd, const void* data, size_t size) noexcept;

} // namespace droplet
