// The content-addressed image store under one root directory:
//   blobs/sha256/<hex>     manifests, configs, indexes and compressed layers, verified before they appear
//   layers/<diff_id hex>/  each layer unpacked once (overlay lower dir), shared by every image using it
//   images.db              SQLite: images, their names, blobs and layers (what garbage collection counts)
// Thread-safe: the daemon calls it from several worker threads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "digest.hpp"
#include "error.hpp"
#include "reference.hpp"

namespace raind::db {
class Database;
}

namespace raind::images {

// The bytes did not hash to what the manifest promised; nothing was kept.
class DigestMismatch : public Error {
public:
    using Error::Error;
};
class NoSuchImage : public Error {
public:
    using Error::Error;
};
class ImageInUse : public Error {
public:
    using Error::Error;
};
class Cancelled : public Error {
public:
    Cancelled() : Error("operation cancelled") {}
};

struct LayerInfo {
    Digest blob;            // compressed layer blob (what the manifest lists)
    Digest diff_id;         // sha256 of the uncompressed tar (what the config lists)
    std::string media_type; // as in the manifest
    uint64_t size = 0;      // compressed size
};

struct ImageInfo {
    Digest id;                         // config digest, as docker and podman show it
    Digest manifest;                   // the platform manifest (of the name it was looked up by)
    std::string manifest_media_type;
    std::optional<Digest> index;       // manifest list / OCI index it was selected from, if any
    std::vector<LayerInfo> layers;     // bottom to top
    std::vector<std::string> names;    // normalized references, e.g. docker.io/library/busybox:latest
    int64_t created = 0;               // when it entered the store (unix seconds)
    uint64_t size = 0;                 // config + compressed layers
};

struct RemoveReport {
    std::vector<std::string> untagged;
    std::vector<Digest> deleted_images;
    size_t deleted_blobs = 0;
    size_t deleted_layers = 0;
};

class Store;

// Streams one blob into a temp file beside its final place; commit() renames it only when the
// digest matches. Destroying an uncommitted writer removes the temp file.
class BlobWriter {
public:
    BlobWriter(BlobWriter&&) noexcept;
    BlobWriter& operator=(BlobWriter&&) = delete;
    ~BlobWriter();

    void write(const void* data, size_t size);
    uint64_t written() const noexcept;
    // Also hands every byte of the blob to `tee`, once and in order, as it is written: bytes a
    // restarted transfer writes again are not handed over twice. (A layer is unpacked this way
    // while it downloads; its diff_id check covers what the tee saw.)
    void set_tee(std::function<void(const char* data, size_t size)> tee);
    // Drops what was written (a retry that cannot resume starts over).
    void restart();
    void commit(); // throws DigestMismatch and removes the temp file on a wrong digest or size

private:
    friend class Store;
    struct State;
    explicit BlobWriter(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

// Keeps blobs and layers from being collected while an operation that will reference them runs.
class Lease {
public:
    Lease(Lease&&) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();

private:
    friend class Store;
    Lease(Store* store, std::vector<std::string> keys) : store_(store), keys_(std::move(keys)) {}
    Store* store_;
    std::vector<std::string> keys_;
};

class Store {
public:
    explicit Store(std::filesystem::path root); // creates the layout; removes temp files a crash left
    ~Store();
    Store(const Store&) = delete;
    Store& operator=(const Store&) = delete;

    const std::filesystem::path& root() const noexcept { return root_; }

    bool has_blob(const Digest& digest) const;
    std::filesystem::path blob_path(const Digest& digest) const;
    std::string read_blob(const Digest& digest) const;
    // Stores small content (manifests, configs); checks it against `expected` when given.
    Digest write_blob(std::string_view data, const std::optional<Digest>& expected = std::nullopt);
    BlobWriter blob_writer(const Digest& expected, std::optional<uint64_t> expected_size = std::nullopt);

    bool has_layer(const Digest& diff_id) const;
    std::filesystem::path layer_path(const Digest& diff_id) const;
    // Unpacks the blob into layers/<diff_id>/ unless it is already there; the uncompressed stream
    // must hash to diff_id. On any failure nothing is left under layers/.
    void unpack_layer(const Digest& blob, const Digest& diff_id, std::stop_token stop = {});
    // The same from bytes still arriving (`name` names them in messages): the layer appears
    // only once `source` ended and the diff_id matched; when `source` throws, nothing is left.
    // `diff_id` is asked for only then (a pull learns it from the config, which downloads
    // meanwhile). Returns whether this call put the layer in place (false: it was there).
    bool unpack_layer(const std::function<size_t(const void**)>& source, const std::string& name,
                      const std::function<Digest()>& diff_id, std::stop_token stop = {});

    Lease lease(const std::vector<Digest>& blobs, const std::vector<Digest>& layers = {});
    // Drops these blobs and layers unless an image or a lease still needs them: how a failed
    // pull takes back what it added.
    void discard(const std::vector<Digest>& blobs, const std::vector<Digest>& layers);

    // Records an image whose blobs (and unpacked layers) are in the store and gives it `names`
    // (moving a name from the image that had it). Returns the stored record.
    ImageInfo add_image(const ImageInfo& image, const std::vector<Reference>& names,
                        const std::vector<Digest>& extra_blobs = {});
    // By name ("busybox", "localhost:5000/x:1"), full id ("sha256:…") or an unambiguous id prefix.
    std::optional<ImageInfo> find_image(std::string_view name_or_id) const;
    ImageInfo image(std::string_view name_or_id) const; // throws NoSuchImage
    std::vector<ImageInfo> images() const;
    void tag(std::string_view name_or_id, const Reference& name);
    // By name: drops that name, and the image once no name is left. By id: the image and all its
    // names (an image with several names needs force). Blobs and layers no other image uses go too.
    RemoveReport remove(std::string_view name_or_id, bool force = false);

    // Removes images left without a name (a pull that moved the name to a newer image leaves
    // the old one behind, as docker does) and whatever only they used.
    RemoveReport prune();

    // Directories for overlay lowerdir, top layer first (the order overlayfs wants).
    std::vector<std::filesystem::path> lower_dirs(const ImageInfo& image) const;

private:
    friend class Lease;
    // With `name`, the manifest is the one that name was pulled with.
    std::optional<ImageInfo> load_image(const std::string& id, const std::optional<std::string>& name = {}) const;
    std::optional<std::string> resolve_id(std::string_view name_or_id, std::optional<std::string>* name = nullptr) const;
    void delete_image_locked(const std::string& id, RemoveReport& report);
    bool leased_locked(const std::string& key) const;
    template <typename Unpack>
    bool unpack_into_place(const std::function<Digest()>& diff_id, const std::string& name, Unpack unpack);

    std::filesystem::path root_;
    std::unique_ptr<db::Database> db_;
    mutable std::mutex mutex_;
    std::vector<std::string> leases_;
};

} // namespace raind::images
