// Internal to the registry client: one thread's HTTP session with a registry (auth challenges,
// token cache, redirects, TLS settings).
#pragma once

#include <httplib.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "registry.hpp"

namespace raind::images {

struct Url {
    std::string scheme; // "http" or "https"
    std::string host;   // without brackets
    int port = 0;
    std::string target; // path and query
    static Url parse(std::string_view text); // absolute URL
    std::string origin() const;
};

struct HttpRequest {
    std::string method = "GET";
    std::string target; // "/v2/…" on the registry, or an absolute URL (upload locations)
    httplib::Headers headers;
    std::vector<std::string> scopes; // token scopes this request needs
    std::string body;
    std::string content_type;
    // Streams a request body of `upload_size` bytes instead of `body`.
    uint64_t upload_size = 0;
    httplib::ContentProvider upload;
    // Receives a 2xx body instead of collecting it; returning false aborts. on_headers sees the
    // 2xx response first (a resumed download must know 200 from 206).
    std::function<bool(const char*, size_t)> sink;
    std::function<void(const httplib::Response&)> on_headers;
    std::stop_token stop;
};

struct HttpResponse {
    int status = 0;
    httplib::Headers headers;
    std::string body; // the whole body, or only the error body when a sink took the data
    std::string url;  // where it finally came from
    std::string header(const std::string& name) const;
};

struct RegistryClient::Shared {
    RegistryOptions options;
    std::mutex mutex;
    std::map<std::string, std::string> scheme;       // registry -> "https"/"http"
    std::map<std::string, std::string> basic_auth;   // registry -> "Basic …" once the registry asked
    struct Token {
        std::string value;
        std::chrono::steady_clock::time_point expires;
    };
    std::map<std::string, Token> tokens; // registry + scopes -> token
    // Connections a finished Session left open, by origin: the next request of the same client
    // (a pull's config after its manifest) reuses one instead of connecting again.
    std::multimap<std::string, std::unique_ptr<httplib::ClientImpl>> idle;

    std::optional<Credentials> credentials(const std::string& registry) const;
    bool insecure(const std::string& host_port) const;
};

class Session {
public:
    // `credentials` replaces the configured ones (login checks).
    Session(RegistryClient::Shared& shared, std::string registry,
            std::optional<Credentials> credentials = std::nullopt);
    ~Session();

    HttpResponse send(const HttpRequest& request);
    // send() and throw RegistryError unless the status is one of `ok`.
    HttpResponse expect(const HttpRequest& request, std::initializer_list<int> ok);
    const std::string& registry() const noexcept { return registry_; }
    std::string origin();

private:
    httplib::ClientImpl& client_for(const Url& url);
    HttpResponse perform(const Url& url, const HttpRequest& r, const httplib::Headers& headers);
    bool authenticate(const HttpResponse& challenge, const std::vector<std::string>& scopes);
    std::string cached_authorization(const std::vector<std::string>& scopes);

    RegistryClient::Shared& shared_;
    std::string registry_;
    std::string api_host_;
    std::optional<Credentials> override_;
    std::optional<std::string> origin_;
    std::string authorization_;
    std::map<std::string, std::unique_ptr<httplib::ClientImpl>> clients_;
};

// "GET <url>: 404 MANIFEST_UNKNOWN: manifest unknown" from a registry error body.
[[noreturn]] void throw_registry_error(const std::string& what, const HttpResponse& res);

} // namespace raind::images
