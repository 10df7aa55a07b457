// A registry written in the test, for behaviours a real one will not show on demand: corrupted
// blobs, a Bearer challenge with a token endpoint, redirects to another host (a CDN), and a
// connection that drops in the middle of a blob.
#pragma once

#include <httplib.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "digest.hpp"
#include "tar_builder.hpp"

namespace raind::images::test {

class HttpServer {
public:
    HttpServer() {
        port_ = server.bind_to_any_port("127.0.0.1");
        thread_ = std::thread([this] { server.listen_after_bind(); });
        while (!server.is_running())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ~HttpServer() {
        server.stop();
        thread_.join();
    }
    int port() const { return port_; }
    std::string origin() const { return "http://127.0.0.1:" + std::to_string(port_); }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    httplib::Server server;

private:
    int port_;
    std::thread thread_;
};

struct FakeImage {
    std::string manifest, config, layer;
    Digest manifest_digest, config_digest, layer_digest, diff_id; // of the first layer
    std::vector<std::string> layers;                              // all of them
};

inline FakeImage fake_image(const std::string& content = "hello from the fake registry\n", int layer_count = 1,
                            const std::function<void(TarBuilder&)>& extra = {}) {
    // Incompressible bytes, so the blob is big enough to break in the middle.
    std::string noise(200000, '\0');
    uint32_t x = 12345;
    for (auto& c : noise)
        c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
    nlohmann::json diff_ids = nlohmann::json::array(), layer_descs = nlohmann::json::array();
    std::vector<std::string> layers;
    std::vector<Digest> plain_digests;
    for (int i = 0; i < layer_count; ++i) {
        TarBuilder plain, gz(Compression::gzip);
        for (auto* t : {&plain, &gz})
            t->file(i == 0 ? "hello.txt" : "layer" + std::to_string(i) + ".txt", content).file("noise.bin", noise);
        if (extra)
            for (auto* t : {&plain, &gz})
                extra(*t);
        layers.push_back(gz.bytes());
        diff_ids.push_back(sha256_of(plain.bytes()).str());
        plain_digests.push_back(sha256_of(plain.bytes()));
        layer_descs.push_back({{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                               {"digest", sha256_of(gz.bytes()).str()},
                               {"size", gz.bytes().size()}});
    }
    FakeImage img{{}, {}, layers[0], sha256_of(""), sha256_of(""), sha256_of(layers[0]), plain_digests[0], layers};
    img.config = nlohmann::json({{"architecture", "amd64"},
                                 {"os", "linux"},
                                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}})
                     .dump();
    img.config_digest = sha256_of(img.config);
    img.manifest = nlohmann::json({{"schemaVersion", 2},
                                   {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                                   {"config",
                                    {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                                     {"digest", img.config_digest.str()},
                                     {"size", img.config.size()}}},
                                   {"layers", layer_descs}})
                       .dump();
    img.manifest_digest = sha256_of(img.manifest);
    return img;
}

class FakeRegistry {
public:
    // Knobs a test turns before pulling.
    std::atomic<bool> require_token{false};
    std::atomic<int> drop_blob_after{-1}; // close the connection after this many bytes, once
    std::string drop_blob_digest;         // only when this blob is asked for (empty: the first one)
    std::atomic<bool> slow_blobs{false};  // each blob request takes 150 ms to start
    std::atomic<int> manifest_failures{0}; // answer this many manifest requests with 503
    std::atomic<int> in_flight{0}, max_in_flight{0};
    std::string redirect_blobs_to;       // origin of another server that serves /blobs/...
    std::map<std::string, std::string> blobs;  // digest -> bytes served (may lie)
    std::map<std::string, std::string> manifests;

    std::atomic<int> token_requests{0};
    std::mutex mutex;
    std::vector<std::string> ranges_seen;
    std::vector<std::string> authorizations_seen;

    explicit FakeRegistry(const FakeImage& img) {
        blobs[img.config_digest.str()] = img.config;
        for (const auto& l : img.layers)
            blobs[sha256_of(l).str()] = l;
        manifests["app:latest"] = img.manifest;
        manifests["app:" + img.manifest_digest.str()] = img.manifest;
        auto& s = http.server;
        s.Get("/token", [this](const httplib::Request& req, httplib::Response& res) {
            ++token_requests;
            EXPECT_EQ(req.get_param_value("service"), "fake");
            res.set_content(R"({"token":"T0K3N","expires_in":300})", "application/json");
        });
        s.Get("/v2/", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authorized(req, res, ""))
                return;
            res.set_content("{}", "application/json");
        });
        s.Get(R"(/v2/(.+)/manifests/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authorized(req, res, req.matches[1]))
                return;
            if (manifest_failures > 0) {
                --manifest_failures;
                res.status = 503;
                return;
            }
            auto it = manifests.find(std::string(req.matches[1]) + ":" + std::string(req.matches[2]));
            if (it == manifests.end()) {
                res.status = 404;
                res.set_content(R"({"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]})",
                                "application/json");
                return;
            }
            res.set_content(it->second, "application/vnd.docker.distribution.manifest.v2+json");
        });
        s.Get(R"(/v2/(.+)/blobs/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
            if (!authorized(req, res, req.matches[1]))
                return;
            if (!redirect_blobs_to.empty()) {
                res.status = 307;
                res.set_header("Location", redirect_blobs_to + req.path);
                return;
            }
            serve_blob(req, res, req.matches[2]);
        });
    }

    void serve_blob(const httplib::Request& req, httplib::Response& res, const std::string& digest) {
        {
            std::lock_guard lock(mutex);
            ranges_seen.push_back(req.get_header_value("Range"));
        }
        if (slow_blobs) {
            int now = ++in_flight;
            for (int seen = max_in_flight; now > seen && !max_in_flight.compare_exchange_weak(seen, now);) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(150));
            --in_flight;
        }
        auto it = blobs.find(digest);
        if (it == blobs.end()) {
            res.status = 404;
            return;
        }
        std::string data = it->second;
        int drop = drop_blob_digest.empty() || drop_blob_digest == digest ? drop_blob_after.exchange(-1) : -1;
        res.set_content_provider(data.size(), "application/octet-stream",
                                 [data, drop](size_t offset, size_t length, httplib::DataSink& sink) {
                                     size_t n = std::min<size_t>(length, 16384);
                                     if (drop >= 0 && offset + n > static_cast<size_t>(drop))
                                         return false; // the connection dies mid-transfer
                                     sink.write(data.data() + offset, n);
                                     return true;
                                 });
    }

    std::string registry() const { return http.host(); }
    HttpServer http;

private:
    bool authorized(const httplib::Request& req, httplib::Response& res, const std::string& repo) {
        {
            std::lock_guard lock(mutex);
            authorizations_seen.push_back(req.get_header_value("Authorization"));
        }
        if (!require_token || req.get_header_value("Authorization") == "Bearer T0K3N")
            return true;
        res.status = 401;
        std::string challenge = "Bearer realm=\"" + http.origin() + "/token\",service=\"fake\"";
        if (!repo.empty())
            challenge += ",scope=\"repository:" + repo + ":pull\"";
        res.set_header("WWW-Authenticate", challenge);
        res.set_content(R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})",
                        "application/json");
        return false;
    }
};

} // namespace raind::images::test
