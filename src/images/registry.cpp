#include "registry.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "fd.hpp"
#include "manifest.hpp"
#include "store.hpp"
#include "transport.hpp"

namespace raind::images {

namespace {

std::string pull_scope(const Reference& r) { return "repository:" + r.repository + ":pull"; }

// The next page from a Link header: `</v2/_catalog?last=b&n=100>; rel="next"`.
std::string next_link(const HttpResponse& res) {
    std::string link = res.header("Link");
    auto open = link.find('<'), close = link.find('>');
    if (open == std::string::npos || close == std::string::npos || link.find("rel=\"next\"") == std::string::npos)
        return {};
    return link.substr(open + 1, close - open - 1);
}

std::string with_query(const std::string& location, const std::string& query) {
    return location + (location.find('?') == std::string::npos ? "?" : "&") + query;
}

} // namespace

RegistryClient::RegistryClient(RegistryOptions options) : shared_(std::make_unique<Shared>()) {
    shared_->options = std::move(options);
}
RegistryClient::~RegistryClient() = default;
const RegistryOptions& RegistryClient::options() const noexcept { return shared_->options; }

void RegistryClient::check_login(std::string_view registry, const Credentials& credentials) {
    Session s(*shared_, std::string(registry), credentials);
    HttpRequest r;
    r.target = "/v2/";
    auto res = s.send(r);
    if (res.status == 401)
        throw AuthenticationError("login to " + std::string(registry) + " failed: the registry refused the credentials of user " +
                                      credentials.username,
                                  401, "UNAUTHORIZED");
    if (res.status != 200)
        throw_registry_error("GET " + res.url, res);
}

FetchedManifest RegistryClient::get_manifest(const Reference& ref, std::string_view tag_or_digest) {
    std::string which = tag_or_digest.empty() ? ref.manifest_reference() : std::string(tag_or_digest);
    Session s(*shared_, ref.registry);
    HttpRequest r;
    r.target = "/v2/" + ref.repository + "/manifests/" + which;
    r.headers.emplace("Accept", std::string(media_type::accept_all));
    r.scopes = {pull_scope(ref)};
    // Manifests are small: a transient failure is simply asked again.
    HttpResponse res;
    for (unsigned attempt = 1;; ++attempt) {
        try {
            res = s.send(r);
            if ((res.status < 500 && res.status != 429) || attempt > shared_->options.retries)
                break;
        } catch (const TransportError&) {
            if (attempt > shared_->options.retries)
                throw;
        }
        std::this_thread::sleep_for(shared_->options.retry_delay * attempt);
    }
    if (res.status != 200)
        throw_registry_error("GET " + res.url, res);
    Digest digest = sha256_of(res.body);
    if (Digest::valid(which) && digest.str() != which)
        throw DigestMismatch("manifest " + which + " of " + ref.name() + ": registry sent content hashing to " +
                             digest.str());
    std::string header = res.header("Docker-Content-Digest");
    if (Digest::valid(header) && header != digest.str())
        throw DigestMismatch("manifest " + ref.str() + ": content hashes to " + digest.str() +
                             " but the registry says " + header);
    return {digest, detect_media_type(res.header("Content-Type"), res.body), std::move(res.body)};
}

std::optional<Digest> RegistryClient::resolve_digest(const Reference& ref) {
    if (!ref.digest.empty())
        return Digest::parse(ref.digest);
    Session s(*shared_, ref.registry);
    HttpRequest r;
    r.method = "HEAD";
    r.target = "/v2/" + ref.repository + "/manifests/" + ref.tag;
    r.headers.emplace("Accept", std::string(media_type::accept_all));
    r.scopes = {pull_scope(ref)};
    auto res = s.send(r);
    if (res.status == 404)
        return std::nullopt;
    if (res.status != 200)
        throw_registry_error("HEAD " + res.url, res);
    std::string header = res.header("Docker-Content-Digest");
    if (Digest::valid(header))
        return Digest::parse(header);
    return get_manifest(ref).digest;
}

void RegistryClient::fetch_blob(const Reference& repo, const Digest& digest, uint64_t size, BlobWriter& writer,
                                const TransferProgress& progress, std::stop_token stop) {
    Session s(*shared_, repo.registry);
    const unsigned attempts = shared_->options.retries + 1;
    for (unsigned attempt = 1;; ++attempt) {
        HttpRequest r;
        r.target = "/v2/" + repo.repository + "/blobs/" + digest.str();
        r.scopes = {pull_scope(repo)};
        r.stop = stop;
        if (writer.written() > 0)
            r.headers.emplace("Range", "bytes=" + std::to_string(writer.written()) + "-");
        r.on_headers = [&](const httplib::Response& res) {
            // 200 to a Range request: the server starts over, and so do we.
            if (res.status == 200 && writer.written() > 0)
                writer.restart();
        };
        r.sink = [&](const char* data, size_t n) {
            writer.write(data, n);
            if (progress)
                progress(writer.written(), size);
            return true;
        };
        std::string failure;
        try {
            auto res = s.send(r);
            if ((res.status == 200 || res.status == 206) && writer.written() == size)
                return;
            if (res.status == 200 || res.status == 206)
                failure = "transfer ended after " + std::to_string(writer.written()) + " of " + std::to_string(size) +
                          " bytes";
            else if (res.status == 416)
                writer.restart(), failure = "server refused to resume";
            else if (res.status >= 500 || res.status == 429)
                failure = "HTTP " + std::to_string(res.status);
            else
                throw_registry_error("GET " + res.url, res);
        } catch (const TransportError& e) {
            failure = e.what();
        }
        if (attempt >= attempts)
            throw TransportError("blob " + digest.str() + " of " + repo.name() + ": giving up after " +
                                 std::to_string(attempts) + " attempts: " + failure);
        std::this_thread::sleep_for(shared_->options.retry_delay * attempt);
        if (stop.stop_requested())
            throw Cancelled();
    }
}

bool RegistryClient::blob_exists(const Reference& repo, const Digest& digest) {
    Session s(*shared_, repo.registry);
    HttpRequest r;
    r.method = "HEAD";
    r.target = "/v2/" + repo.repository + "/blobs/" + digest.str();
    r.scopes = {pull_scope(repo)};
    auto res = s.send(r);
    if (res.status == 200)
        return true;
    if (res.status == 404)
        return false;
    throw_registry_error("HEAD " + res.url, res);
}

bool RegistryClient::upload_blob(const Reference& repo, const Digest& digest, const std::filesystem::path& file,
                                 std::optional<std::string> mount_from, const TransferProgress& progress,
                                 std::stop_token stop) {
    Session s(*shared_, repo.registry);
    std::vector<std::string> scopes = {"repository:" + repo.repository + ":pull,push"};
    HttpRequest start;
    start.method = "POST";
    start.target = "/v2/" + repo.repository + "/blobs/uploads/";
    start.stop = stop;
    if (mount_from) {
        start.target += "?mount=" + digest.str() + "&from=" + *mount_from;
        scopes.push_back("repository:" + *mount_from + ":pull");
    }
    start.scopes = scopes;
    auto res = s.expect(start, {201, 202});
    if (res.status == 201)
        return true; // mounted: nothing to send
    std::string location = res.header("Location");
    if (location.empty())
        throw TransportError("POST " + res.url + ": upload started without a Location");

    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("open " + file.string());
    const uint64_t size = std::filesystem::file_size(file);
    auto provider_from = [&](uint64_t base) {
        return [&, base](size_t offset, size_t length, httplib::DataSink& sink) {
            char buf[65536];
            size_t n = std::min(length, sizeof buf);
            ssize_t got = ::pread(fd.get(), buf, n, static_cast<off_t>(base + offset));
            if (got <= 0)
                return false;
            sink.write(buf, static_cast<size_t>(got));
            if (progress)
                progress(base + offset + static_cast<uint64_t>(got), size);
            return true;
        };
    };
    const uint64_t chunk = shared_->options.upload_chunk_size;
    if (chunk > 0 && size > chunk) {
        for (uint64_t off = 0; off < size; off += chunk) {
            uint64_t len = std::min(chunk, size - off);
            HttpRequest patch;
            patch.method = "PATCH";
            patch.target = location;
            patch.scopes = scopes;
            patch.stop = stop;
            patch.content_type = "application/octet-stream";
            patch.headers.emplace("Content-Range", std::to_string(off) + "-" + std::to_string(off + len - 1));
            patch.upload_size = len;
            patch.upload = provider_from(off);
            auto pr = s.expect(patch, {202});
            if (auto next = pr.header("Location"); !next.empty())
                location = next;
        }
        HttpRequest put;
        put.method = "PUT";
        put.target = with_query(location, "digest=" + digest.str());
        put.scopes = scopes;
        put.stop = stop;
        s.expect(put, {201});
        return false;
    }
    HttpRequest put;
    put.method = "PUT";
    put.target = with_query(location, "digest=" + digest.str());
    put.scopes = scopes;
    put.stop = stop;
    put.content_type = "application/octet-stream";
    put.upload_size = size;
    put.upload = provider_from(0);
    s.expect(put, {201});
    return false;
}

Digest RegistryClient::put_manifest(const Reference& ref, std::string_view media_type, std::string_view body) {
    Session s(*shared_, ref.registry);
    HttpRequest r;
    r.method = "PUT";
    r.target = "/v2/" + ref.repository + "/manifests/" + ref.manifest_reference();
    r.scopes = {"repository:" + ref.repository + ":pull,push"};
    r.content_type = std::string(media_type);
    r.body = std::string(body);
    s.expect(r, {201});
    return sha256_of(body);
}

std::vector<std::string> RegistryClient::list_tags(const Reference& repo) {
    Session s(*shared_, repo.registry);
    std::vector<std::string> tags;
    std::string target = "/v2/" + repo.repository + "/tags/list?n=1000";
    while (!target.empty()) {
        HttpRequest r;
        r.target = target;
        r.scopes = {pull_scope(repo)};
        auto res = s.expect(r, {200});
        try {
            auto j = nlohmann::json::parse(res.body);
            if (j.contains("tags") && j["tags"].is_array())
                for (const auto& t : j["tags"])
                    tags.push_back(t.get<std::string>());
        } catch (const nlohmann::json::exception& e) {
            throw TransportError("GET " + res.url + ": invalid JSON: " + e.what());
        }
        target = next_link(res);
    }
    return tags;
}

std::vector<std::string> RegistryClient::catalog(std::string_view registry) {
    Session s(*shared_, std::string(registry));
    std::vector<std::string> repos;
    std::string target = "/v2/_catalog?n=1000";
    while (!target.empty()) {
        HttpRequest r;
        r.target = target;
        r.scopes = {"registry:catalog:*"};
        auto res = s.expect(r, {200});
        try {
            auto j = nlohmann::json::parse(res.body);
            if (j.contains("repositories") && j["repositories"].is_array())
                for (const auto& t : j["repositories"])
                    repos.push_back(t.get<std::string>());
        } catch (const nlohmann::json::exception& e) {
            throw TransportError("GET " + res.url + ": invalid JSON: " + e.what());
        }
        target = next_link(res);
    }
    return repos;
}

void RegistryClient::delete_manifest(const Reference& ref) {
    auto digest = resolve_digest(ref);
    if (!digest)
        throw RegistryError("delete " + ref.str() + ": no such manifest in the registry", 404, "MANIFEST_UNKNOWN");
    Session s(*shared_, ref.registry);
    HttpRequest r;
    r.method = "DELETE";
    r.target = "/v2/" + ref.repository + "/manifests/" + digest->str();
    r.scopes = {"repository:" + ref.repository + ":delete"};
    s.expect(r, {202, 200});
}

} // namespace raind::images
