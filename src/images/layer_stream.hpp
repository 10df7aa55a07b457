// The uncompressed bytes of a layer (plain tar, gzip or zstd) from its compressed bytes as they
// come. gzip, which nearly every layer is, goes through ISA-L's inflate when raind is built with
// it: several times faster than zlib, and inflating is most of a pull's CPU time. Everything
// else (and gzip without ISA-L) goes through libarchive's filters.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace raind::images {

// Where a layer's compressed bytes come from: points *data at the next bytes (valid until the
// next call) and returns how many, 0 at the end; throws when they cannot come.
using LayerSource = std::function<size_t(const void** data)>;

class DecompressedStream {
public:
    // `name` names the layer in messages.
    DecompressedStream(const LayerSource& source, std::string name);
    ~DecompressedStream();
    DecompressedStream(const DecompressedStream&) = delete;
    DecompressedStream& operator=(const DecompressedStream&) = delete;

    // The next uncompressed bytes (valid until the next call), 0 at the end. Throws the
    // source's own error, or Error "layer <name>: damaged archive: …".
    size_t read(const void** data);
    // Reads the compressed bytes to their end: a layer that streams in counts as complete only
    // once its source ended (which is when its blob verified), not when the decompressor is done.
    void drain();

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace raind::images
