// OCI distribution client: talks to one or more registries with Docker Hub naming, Bearer
// token and Basic auth, TLS with system CAs plus per-registry CA directories, an insecure list
// and redirects. Thread-safe: share one client; every call opens its own connections, so
// calls may run on many threads at once.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "auth.hpp"
#include "digest.hpp"
#include "error.hpp"
#include "reference.hpp"

namespace raind::images {

class BlobWriter;

struct RegistryOptions {
    // "host[:port]": plain HTTP is allowed and TLS certificates are not verified.
    std::vector<std::string> insecure;
    // <dir>/<host:port>/*.crt are trusted for that registry in addition to the system CAs
    // (the layout of /etc/containers/certs.d and /etc/docker/certs.d); client.cert/client.key
    // there are presented as a client certificate.
    std::vector<std::filesystem::path> cert_dirs{"/etc/containers/certs.d", "/etc/docker/certs.d"};
    // Searched in order for credentials (containers auth.json / docker config.json format).
    std::vector<std::filesystem::path> auth_files;
    // Registry -> where to fetch it from instead, e.g. {"docker.io", "localhost:5000"} (podman's
    // registries.conf prefix/location). Names stay as written; TLS, insecure and credentials
    // settings are those of the mirror.
    std::map<std::string, std::string> mirrors;
    // Explicit credentials per registry (--creds), before the auth files.
    std::map<std::string, Credentials> credentials;
    unsigned parallel_downloads = 3;
    unsigned retries = 3; // further attempts after a failed transfer (resumed with Range)
    std::chrono::milliseconds retry_delay{200};
    std::chrono::seconds timeout{30};
    uint64_t upload_chunk_size = 0; // 0: monolithic uploads; otherwise PATCH chunks of this size
};

// The registry answered with an error; `status` is the HTTP status, `code` the distribution
// error code (MANIFEST_UNKNOWN, DENIED, …) when it sent one.
class RegistryError : public Error {
public:
    RegistryError(const std::string& message, int status, std::string code)
        : Error(message), status_(status), code_(std::move(code)) {}
    int status() const noexcept { return status_; }
    const std::string& code() const noexcept { return code_; }

private:
    int status_;
    std::string code_;
};

class AuthenticationError : public RegistryError {
public:
    using RegistryError::RegistryError;
};

// Connection, TLS or protocol failures (retried by transfers).
class TransportError : public Error {
public:
    using Error::Error;
};

struct FetchedManifest {
    Digest digest;
    std::string media_type;
    std::string body;
};

// Bytes so far and the total, called from the thread doing the transfer.
using TransferProgress = std::function<void(uint64_t done, uint64_t total)>;

class RegistryClient {
public:
    explicit RegistryClient(RegistryOptions options = {});
    ~RegistryClient();
    RegistryClient(const RegistryClient&) = delete;
    RegistryClient& operator=(const RegistryClient&) = delete;

    const RegistryOptions& options() const noexcept;

    // GET /v2/ with `credentials` (the user's, not the stored ones): throws
    // AuthenticationError when the registry refuses them. What `raind login` runs before saving.
    void check_login(std::string_view registry, const Credentials& credentials);

    // The manifest the tag or digest names (ref.manifest_reference() unless given), verified
    // against the digest when pulling by digest.
    FetchedManifest get_manifest(const Reference& ref, std::string_view tag_or_digest = {});
    // HEAD: the digest a tag points to, or nullopt when the registry does not know it.
    std::optional<Digest> resolve_digest(const Reference& ref);

    // Streams the blob into `writer`, resuming with Range after a broken transfer; the caller
    // commits (which verifies the digest).
    void fetch_blob(const Reference& repo, const Digest& digest, uint64_t size, BlobWriter& writer,
                    const TransferProgress& progress = {}, std::stop_token stop = {});
    bool blob_exists(const Reference& repo, const Digest& digest);
    // Mounts from `mount_from` (a repository on the same registry) when the registry allows it,
    // otherwise uploads the file: in one PUT, or in PATCH chunks when upload_chunk_size is set.
    // Returns true when the blob was mounted instead of uploaded.
    bool upload_blob(const Reference& repo, const Digest& digest, const std::filesystem::path& file,
                     std::optional<std::string> mount_from = std::nullopt, const TransferProgress& progress = {},
                     std::stop_token stop = {});
    Digest put_manifest(const Reference& ref, std::string_view media_type, std::string_view body);

    std::vector<std::string> list_tags(const Reference& repo);
    std::vector<std::string> catalog(std::string_view registry);
    // Deletes the manifest the reference names (a tag is resolved to its digest first, as the
    // API requires a digest).
    void delete_manifest(const Reference& ref);

    struct Shared;

private:
    std::unique_ptr<Shared> shared_;
};

} // namespace raind::images
