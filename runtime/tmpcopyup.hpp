// "tmpcopyup": a tmpfs mounted over an image directory starts with a copy of what it hides.
#pragma once

#include <string>

namespace droplet {

// Copies the tree below `from_dir` into `to_dir` (both O_RDONLY directory fds), keeping modes,
// owners, symlinks and device nodes. `what` prefixes errors.
void copy_directory_tree(int from_dir, int to_dir, const std::string& what);

} // namespace droplet
