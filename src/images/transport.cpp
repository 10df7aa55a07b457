#include "transport.hpp"

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "store.hpp"

namespace fs = std::filesystem;

namespace raind::images {

namespace {

std::string url_encode(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

bool is_absolute_url(std::string_view s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

std::string scope_key(const std::string& registry, std::vector<std::string> scopes) {
    std::sort(scopes.begin(), scopes.end());
    std::string key = registry;
    for (const auto& s : scopes)
        key += " " + s;
    return key;
}

// "host:port" the way registries are named (default ports left out), for cert dirs and lists.
std::string host_port(const Url& u) {
    std::string host = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
    bool default_port = (u.scheme == "https" && u.port == 443) || (u.scheme == "http" && u.port == 80);
    return default_port ? host : host + ":" + std::to_string(u.port);
}

// What an insecure registry spoke when last probed (TLS or plain HTTP), kept for a minute across
// clients: a daemon pulls from the same registries again and again, and each probe costs a
// connection and a failed handshake. Forgotten when a connection to it fails.
class ProbedSchemes {
public:
    std::optional<std::string> get(const std::string& host) {
        std::lock_guard lock(mutex_);
        auto it = schemes_.find(host);
        if (it == schemes_.end() || it->second.second < std::chrono::steady_clock::now())
            return std::nullopt;
        return it->second.first;
    }
    void put(const std::string& host, const std::string& scheme) {
        std::lock_guard lock(mutex_);
        schemes_[host] = {scheme, std::chrono::steady_clock::now() + std::chrono::minutes(1)};
    }
    void forget(const std::string& host) {
        std::lock_guard lock(mutex_);
        schemes_.erase(host);
    }

private:
    std::mutex mutex_;
    std::map<std::string, std::pair<std::string, std::chrono::steady_clock::time_point>> schemes_;
};

ProbedSchemes& probed_schemes() {
    static ProbedSchemes cache;
    return cache;
}

} // namespace

Url Url::parse(std::string_view text) {
    Url u;
    auto sep = text.find("://");
    if (sep == std::string_view::npos)
        throw TransportError("invalid URL \"" + std::string(text) + "\"");
    u.scheme = text.substr(0, sep);
    if (u.scheme != "http" && u.scheme != "https")
        throw TransportError("unsupported URL scheme in \"" + std::string(text) + "\"");
    std::string_view rest = text.substr(sep + 3);
    auto slash = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, slash);
    u.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (!u.target.empty() && u.target[0] == '?')
        u.target = "/" + u.target;
    std::string_view port;
    if (!authority.empty() && authority[0] == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos)
            throw TransportError("invalid URL \"" + std::string(text) + "\"");
        u.host = authority.substr(1, close - 1);
        if (close + 1 < authority.size() && authority[close + 1] == ':')
            port = authority.substr(close + 2);
    } else {
        auto colon = authority.rfind(':');
        u.host = authority.substr(0, colon);
        if (colon != std::string_view::npos)
            port = authority.substr(colon + 1);
    }
    if (u.host.empty())
        throw TransportError("invalid URL \"" + std::string(text) + "\": no host");
    u.port = port.empty() ? (u.scheme == "https" ? 443 : 80) : std::atoi(std::string(port).c_str());
    if (u.port <= 0 || u.port > 65535)
        throw TransportError("invalid URL \"" + std::string(text) + "\": bad port");
    return u;
}

std::string Url::origin() const { return scheme + "://" + host_port(*this); }

std::string HttpResponse::header(const std::string& name) const {
    for (const auto& [k, v] : headers)
        if (k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) {
                return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
            }))
            return v;
    return {};
}

std::optional<Credentials> RegistryClient::Shared::credentials(const std::string& registry) const {
    if (auto it = options.credentials.find(registry); it != options.credentials.end())
        return it->second;
    for (const auto& f : options.auth_files)
        if (auto c = AuthFile(f).get(registry))
            return c;
    return std::nullopt;
}

bool RegistryClient::Shared::insecure(const std::string& hp) const {
    return std::find(options.insecure.begin(), options.insecure.end(), hp) != options.insecure.end();
}

void throw_registry_error(const std::string& what, const HttpResponse& res) {
    std::string code, message;
    try {
        auto j = nlohmann::json::parse(res.body);
        if (j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
            code = j["errors"][0].value("code", std::string());
            message = j["errors"][0].value("message", std::string());
        }
    } catch (const nlohmann::json::exception&) {
        message = res.body.substr(0, 200);
        while (!message.empty() && std::isspace(static_cast<unsigned char>(message.back())))
            message.pop_back();
    }
    std::string text = what + ": " + std::to_string(res.status);
    if (!code.empty())
        text += " " + code;
    if (!message.empty())
        text += ": " + message;
    if (res.status == 401)
        throw AuthenticationError(text, res.status, code);
    throw RegistryError(text, res.status, code);
}

Session::Session(RegistryClient::Shared& shared, std::string registry, std::optional<Credentials> credentials)
    : shared_(shared), registry_(std::move(registry)), override_(std::move(credentials)) {
    if (auto m = shared_.options.mirrors.find(registry_); m != shared_.options.mirrors.end())
        registry_ = m->second;
    api_host_ = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
}

Session::~Session() {
    std::lock_guard lock(shared_.mutex);
    for (auto& [origin, client] : clients_)
        if (client->is_socket_open() && shared_.idle.count(origin) < 4)
            shared_.idle.emplace(origin, std::move(client));
}

httplib::ClientImpl& Session::client_for(const Url& url) {
    std::string key = url.origin();
    if (auto it = clients_.find(key); it != clients_.end())
        return *it->second;
    {
        std::lock_guard lock(shared_.mutex);
        if (auto it = shared_.idle.find(key); it != shared_.idle.end()) {
            auto client = std::move(it->second);
            shared_.idle.erase(it);
            return *clients_.emplace(key, std::move(client)).first->second;
        }
    }
    std::string hp = host_port(url);
    std::unique_ptr<httplib::ClientImpl> client;
    if (url.scheme == "https") {
        bool verify = !shared_.insecure(hp) && !(hp == api_host_ && shared_.insecure(registry_));
        std::vector<fs::path> dirs;
        for (const auto& d : shared_.options.cert_dirs)
            for (const auto& name : {hp, registry_})
                if (std::error_code ec; fs::is_directory(d / name, ec))
                    dirs.push_back(d / name);
        fs::path cert, key_file;
        for (const auto& d : dirs)
            if (fs::exists(d / "client.cert") && fs::exists(d / "client.key") && cert.empty())
                cert = d / "client.cert", key_file = d / "client.key";
        auto ssl = cert.empty() ? std::make_unique<httplib::SSLClient>(url.host, url.port)
                                : std::make_unique<httplib::SSLClient>(url.host, url.port, cert.string(), key_file.string());
        if (verify) {
            // The system CAs plus the registry's own, like podman's certs.d handling. The system
            // CAs come from the hashed directory, looked up lazily: loading the whole bundle file
            // costs ~70 ms per connection.
            X509_STORE* store = X509_STORE_new();
            const char* env_dir = std::getenv(X509_get_default_cert_dir_env());
            ssl->set_ca_cert_path("", env_dir && *env_dir ? env_dir : X509_get_default_cert_dir());
            for (const auto& d : dirs)
                for (const auto& e : fs::directory_iterator(d))
                    if (e.path().extension() == ".crt" && X509_STORE_load_file(store, e.path().c_str()) != 1) {
                        X509_STORE_free(store);
                        throw TransportError("cannot load CA certificate " + e.path().string());
                    }
            ssl->set_ca_cert_store(store);
        }
        ssl->enable_server_certificate_verification(verify);
        client = std::move(ssl);
    } else {
        client = std::make_unique<httplib::ClientImpl>(url.host, url.port);
    }
    client->set_connection_timeout(10);
    client->set_read_timeout(shared_.options.timeout);
    client->set_write_timeout(shared_.options.timeout);
    client->set_keep_alive(true);
    // Without it the request after the TLS Finished message waits for a delayed ACK (~40 ms).
    client->set_tcp_nodelay(true);
    client->set_url_encode(false); // upload locations come pre-encoded from the registry
    client->set_follow_location(false);
    return *clients_.emplace(key, std::move(client)).first->second;
}

std::string Session::origin() {
    if (origin_)
        return *origin_;
    {
        std::lock_guard lock(shared_.mutex);
        if (auto it = shared_.scheme.find(registry_); it != shared_.scheme.end())
            return *(origin_ = it->second + "://" + api_host_);
    }
    std::string scheme = "https";
    if (shared_.insecure(registry_)) {
        // Insecure registries may speak TLS (unverified) or plain HTTP; try TLS first.
        if (auto known = probed_schemes().get(api_host_)) {
            scheme = *known;
        } else {
            try {
                HttpRequest ping;
                ping.target = "/v2/";
                perform(Url::parse("https://" + api_host_ + "/v2/"), ping, {});
            } catch (const TransportError&) {
                scheme = "http";
            }
            probed_schemes().put(api_host_, scheme);
        }
    }
    std::lock_guard lock(shared_.mutex);
    shared_.scheme[registry_] = scheme;
    return *(origin_ = scheme + "://" + api_host_);
}

HttpResponse Session::perform(const Url& url, const HttpRequest& r, const httplib::Headers& headers) {
    if (r.stop.stop_requested())
        throw Cancelled();
    auto& cli = client_for(url);
    httplib::Request req;
    req.method = r.method;
    req.path = url.target;
    req.headers = headers;
    if (!r.content_type.empty())
        req.headers.emplace("Content-Type", r.content_type);
    if (r.upload) {
        // httplib's generic send() streams a body from these (what its Put(…, provider) uses).
        req.content_length_ = r.upload_size;
        req.content_provider_ = r.upload;
    } else {
        req.body = r.body;
    }
    int status = 0;
    std::string error_body;
    std::exception_ptr sink_error;
    if (r.sink) {
        req.response_handler = [&](const httplib::Response& res) {
            status = res.status;
            if (status >= 200 && status < 300 && r.on_headers) {
                try {
                    r.on_headers(res);
                } catch (...) {
                    sink_error = std::current_exception();
                    return false;
                }
            }
            return true;
        };
        req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
            if (r.stop.stop_requested())
                return false;
            if (status < 200 || status >= 300) {
                if (error_body.size() < 65536)
                    error_body.append(data, n);
                return true;
            }
            try {
                return r.sink(data, n);
            } catch (...) {
                sink_error = std::current_exception();
                return false;
            }
        };
    }
    httplib::Response res;
    httplib::Error err = httplib::Error::Success;
    bool ok = cli.send(req, res, err);
    if (sink_error)
        std::rethrow_exception(sink_error);
    if (r.stop.stop_requested())
        throw Cancelled();
    std::string where = r.method + " " + url.origin() + url.target;
    if (!ok) {
        std::string why = httplib::to_string(err);
        if (err == httplib::Error::SSLServerVerification) {
            long v = static_cast<httplib::SSLClient&>(cli).get_openssl_verify_result();
            why = "TLS certificate not trusted (" + std::string(X509_verify_cert_error_string(v)) +
                  "); put the registry's CA in <certs.d>/" + host_port(url) + "/ca.crt or list it as insecure";
        } else if (err == httplib::Error::SSLConnection) {
            why = "TLS handshake failed (does " + host_port(url) + " speak TLS?)";
        }
        throw TransportError(where + ": " + why);
    }
    HttpResponse out{res.status, res.headers, r.sink ? error_body : res.body, url.origin() + url.target};
    return out;
}

std::string Session::cached_authorization(const std::vector<std::string>& scopes) {
    std::lock_guard lock(shared_.mutex);
    auto& tokens = shared_.tokens;
    std::string prefix = override_ ? "login:" : "";
    if (auto it = tokens.find(prefix + scope_key(registry_, scopes)); it != tokens.end()) {
        if (it->second.expires > std::chrono::steady_clock::now())
            return "Bearer " + it->second.value;
        tokens.erase(it);
    }
    if (override_)
        return tokens.count("login-basic " + registry_) ? tokens["login-basic " + registry_].value : "";
    if (auto it = shared_.basic_auth.find(registry_); it != shared_.basic_auth.end())
        return it->second;
    return {};
}

bool Session::authenticate(const HttpResponse& res, const std::vector<std::string>& scopes) {
    auto challenges = parse_challenges(res.header("WWW-Authenticate"));
    auto creds = override_ ? override_ : shared_.credentials(registry_);
    std::string prefix = override_ ? "login:" : "";
    for (const auto& c : challenges) {
        if (c.scheme == "bearer") {
            auto realm_it = c.params.find("realm");
            if (realm_it == c.params.end())
                throw AuthenticationError("registry " + registry_ + ": Bearer challenge without a realm", 401, "");
            auto wanted = c.scopes();
            for (const auto& s : scopes)
                if (std::find(wanted.begin(), wanted.end(), s) == wanted.end())
                    wanted.push_back(s);
            Url realm = Url::parse(realm_it->second);
            std::string target = realm.target + (realm.target.find('?') == std::string::npos ? "?" : "&");
            target += "service=" + url_encode(c.params.count("service") ? c.params.at("service") : std::string());
            for (const auto& s : wanted)
                target += "&scope=" + url_encode(s);
            realm.target = target;
            httplib::Headers headers;
            if (creds)
                headers.emplace("Authorization", "Basic " + base64_encode(creds->username + ":" + creds->password));
            HttpRequest get;
            auto tr = perform(realm, get, headers);
            if (tr.status == 401 || tr.status == 403)
                throw AuthenticationError("registry " + registry_ + ": token server " + realm.origin() + " refused " +
                                              (creds ? "the credentials of user " + creds->username
                                                     : std::string("anonymous access")) +
                                              " (" + std::to_string(tr.status) + ")",
                                          tr.status, "UNAUTHORIZED");
            if (tr.status != 200)
                throw_registry_error("GET token from " + realm.origin(), tr);
            std::string token;
            int64_t expires_in = 60;
            try {
                auto j = nlohmann::json::parse(tr.body);
                token = j.value("token", std::string());
                if (token.empty())
                    token = j.value("access_token", std::string());
                expires_in = std::max<int64_t>(j.value("expires_in", int64_t{60}), 10);
            } catch (const nlohmann::json::exception& e) {
                throw TransportError("registry " + registry_ + ": token server answered invalid JSON: " + e.what());
            }
            if (token.empty())
                throw TransportError("registry " + registry_ + ": token server answered without a token");
            // Renew a little early so a long pull does not hit the expiry mid-request.
            auto expires = std::chrono::steady_clock::now() + std::chrono::seconds(expires_in - 5);
            std::lock_guard lock(shared_.mutex);
            shared_.tokens[prefix + scope_key(registry_, scopes)] = {token, expires};
            shared_.tokens[prefix + scope_key(registry_, c.scopes())] = {token, expires};
            return true;
        }
        if (c.scheme == "basic") {
            if (!creds)
                throw AuthenticationError("registry " + registry_ + " requires authentication and no credentials are "
                                          "stored for it (log in with: raind login " + registry_ + ")",
                                          401, "UNAUTHORIZED");
            std::string header = "Basic " + base64_encode(creds->username + ":" + creds->password);
            std::lock_guard lock(shared_.mutex);
            if (override_)
                shared_.tokens["login-basic " + registry_] = {header, std::chrono::steady_clock::time_point::max()};
            else
                shared_.basic_auth[registry_] = header;
            return true;
        }
    }
    return false;
}

HttpResponse Session::send(const HttpRequest& r) {
    std::string base = origin();
    Url url = Url::parse(is_absolute_url(r.target) ? r.target : base + r.target);
    bool auth_retried = false;
    for (int hop = 0; hop < 10; ++hop) {
        httplib::Headers headers = r.headers;
        // Credentials go only to the registry itself, never to where it redirects (a CDN).
        if (url.origin() == base)
            if (auto a = cached_authorization(r.scopes); !a.empty())
                headers.emplace("Authorization", a);
        HttpResponse res;
        try {
            res = perform(url, r, headers);
        } catch (const TransportError&) {
            probed_schemes().forget(api_host_); // it may speak the other protocol now
            throw;
        }
        if (res.status == 401 && url.origin() == base && !auth_retried) {
            auth_retried = true;
            if (authenticate(res, r.scopes))
                continue;
            return res;
        }
        if (res.status == 301 || res.status == 302 || res.status == 303 || res.status == 307 || res.status == 308) {
            std::string location = res.header("Location");
            if (location.empty())
                return res;
            if (is_absolute_url(location))
                url = Url::parse(location);
            else if (!location.empty() && location[0] == '/')
                url.target = location;
            else
                url.target = url.target.substr(0, url.target.rfind('/') + 1) + location;
            continue;
        }
        return res;
    }
    throw TransportError(r.method + " " + r.target + ": too many redirects");
}

HttpResponse Session::expect(const HttpRequest& r, std::initializer_list<int> ok) {
    auto res = send(r);
    if (std::find(ok.begin(), ok.end(), res.status) == ok.end())
        throw_registry_error(r.method + " " + res.url, res);
    return res;
}

} // namespace raind::images
