// Unpacks one layer tar (plain, gzip or zstd) into a directory the way overlayfs wants it:
// OCI/Docker whiteouts become 0:0 character devices, opaque markers the trusted.overlay.opaque
// xattr. Every path is resolved inside the directory by this code, one component at a time
// without following symlinks, so no entry can write outside it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <stop_token>
#include <string>

#include "digest.hpp"
#include "error.hpp"
#include "layer_stream.hpp"

namespace raind::images {

// An entry that tries to leave the layer directory (absolute path, "..", through a symlink,
// a hardlink to outside). The message names the entry.
class UnsafeLayerEntry : public Error {
public:
    using Error::Error;
};

struct UnpackResult {
    Digest diff_id;                 // sha256 of the uncompressed tar stream
    uint64_t uncompressed_size = 0;
};

// `dir` must exist and be empty. On an exception the caller removes `dir` (Store does).
// Throws UnsafeLayerEntry, Cancelled (when `stop` is requested), or Error for a damaged archive.
UnpackResult unpack_layer(const std::filesystem::path& archive, const std::filesystem::path& dir,
                          std::stop_token stop = {});

// The same from bytes as they arrive (LayerSource: the unpack fails with its error when it
// throws); `name` names the layer in messages (its blob digest). Returns only after the source
// ended.
UnpackResult unpack_layer(const LayerSource& source, const std::string& name, const std::filesystem::path& dir,
                          std::stop_token stop = {});

} // namespace raind::images
