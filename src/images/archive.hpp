// Images in and out of the store without a registry: OCI image layout directories and the
// tarballs `docker save` writes and `docker load` reads.
#pragma once

#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "manifest.hpp"
#include "reference.hpp"
#include "store.hpp"

namespace raind::images {

// Imports every image index.json lists (choosing `platform` from nested indexes); each is named
// after its org.opencontainers.image.ref.name annotation, or `name` when given (then the layout
// must hold exactly one image). Blobs are verified as they are copied.
std::vector<ImageInfo> import_oci_layout(Store& store, const std::filesystem::path& dir,
                                         const std::optional<Reference>& name = std::nullopt,
                                         const Platform& platform = Platform::host(), std::stop_token stop = {});

// Writes (or adds to) an OCI layout at `dir` with the images' manifests, configs and layers;
// index.json names each by its tag (ref.name) and full name (io.containerd.image.name).
void export_oci_layout(Store& store, const std::vector<std::string>& images, const std::filesystem::path& dir);

// Reads a `docker save` tarball (manifest.json, configs and layer tars, plain or compressed) or
// a tarball of an OCI layout (oci-layout, index.json, blobs/sha256/…), as `docker load` does.
std::vector<ImageInfo> import_archive(Store& store, const std::filesystem::path& tarball,
                                             std::stop_token stop = {});

// Writes a tarball `docker load` accepts: manifest.json, <config>.json, <diff_id>/layer.tar
// (uncompressed, so each layer file hashes to its diff_id) and the legacy repositories file.
void export_docker_archive(Store& store, const std::vector<std::string>& images, const std::filesystem::path& tarball);

} // namespace raind::images
