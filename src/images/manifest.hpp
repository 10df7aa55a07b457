// Image manifests, indexes and platforms: Docker schema 2 (manifest and manifest list) and OCI
// (manifest and index), which is all a pull needs to understand.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "digest.hpp"

namespace raind::images {

namespace media_type {
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view docker_layer = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view oci_layer_gzip = "application/vnd.oci.image.layer.v1.tar+gzip";
// What every manifest request accepts: without the docker types distribution converts to
// schema 1, without the OCI types it answers 404 for OCI content.
inline constexpr std::string_view accept_all =
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
} // namespace media_type

struct Platform {
    std::string os = "linux";
    std::string architecture = "amd64";
    std::string variant;

    // "linux/arm64", "linux/arm64/v8", "arm64" (os defaults to linux); x86_64 and aarch64 are
    // accepted as their Go names.
    static Platform parse(std::string_view text);
    static Platform host();
    std::string str() const;
    bool matches(const Platform& candidate) const; // an empty variant here accepts any variant
    bool operator==(const Platform&) const = default;
};

struct Descriptor {
    std::string media_type;
    Digest digest;
    uint64_t size = 0;
    std::optional<Platform> platform;
};

struct Manifest {
    std::string media_type;
    Descriptor config;
    std::vector<Descriptor> layers;
};

struct Index {
    std::string media_type;
    std::vector<Descriptor> manifests;
};

bool is_index(std::string_view media_type);
// The manifest's type from the Content-Type header, else from the body (umoci writes OCI
// manifests without mediaType). Throws for schema 1 and unknown types.
std::string detect_media_type(std::string_view content_type, std::string_view body);
Manifest parse_manifest(std::string_view body, std::string_view media_type);
Index parse_index(std::string_view body, std::string_view media_type);
// The best child for `wanted`; throws naming the wanted and the available platforms.
const Descriptor& select_platform(const Index& index, const Platform& wanted);
// rootfs.diff_ids of an image config.
std::vector<Digest> config_diff_ids(std::string_view config);

} // namespace raind::images
