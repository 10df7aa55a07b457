// Pull and push of whole images between a registry and the store: what `raind pull/push` run.
#pragma once

#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "manifest.hpp"
#include "reference.hpp"
#include "registry.hpp"
#include "store.hpp"

namespace raind::images {

struct TransferEvent {
    enum class Kind {
        resolved,       // digest = the manifest chosen (after platform selection)
        blob_started,   // digest, total = size
        blob_progress,  // digest, current / total bytes
        blob_exists,    // already in the store (pull) or the registry (push)
        blob_mounted,   // push: mounted from another repository
        blob_done,      // downloaded and verified, or uploaded
        layer_unpacked, // digest = diff_id
        done,           // digest = image id (pull) or manifest digest (push)
    };
    Kind kind;
    std::string digest;
    uint64_t current = 0;
    uint64_t total = 0;
};

// Called from worker threads, but never concurrently: the pull serializes the calls.
using TransferCallback = std::function<void(const TransferEvent&)>;

// Fetches the manifest (choosing `platform` from a manifest list or OCI index), then the config
// and beside it the layers (options().parallel_downloads at a time, each verified and unpacked
// while it streams, once), then records the image under `ref`. On failure or cancellation nothing this
// pull added is left in the store.
ImageInfo pull_image(RegistryClient& client, Store& store, const Reference& ref,
                     const Platform& platform = Platform::host(), const TransferCallback& progress = {},
                     std::stop_token stop = {});

// Uploads the image's layers and config (skipping blobs the registry has, mounting from another
// repository of the same registry when the image came from one) and puts its manifest at `dest`.
// Returns the manifest digest.
Digest push_image(RegistryClient& client, Store& store, std::string_view name_or_id, const Reference& dest,
                  const TransferCallback& progress = {}, std::stop_token stop = {});

} // namespace raind::images
