// Real registries for the registry tests: docker-registry (distribution) started on 127.0.0.1
// on a free port with a config the test writes, certificates made with the openssl CLI, and
// images built here from busybox-static and pushed with skopeo, so the client is checked
// against content another implementation produced.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "digest.hpp"
#include "tar_builder.hpp"
#include "temp_dir.hpp"

namespace raind::images::test {

inline int free_port() {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

inline int run(const std::string& cmd) {
    int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// Standard output of a command (stderr discarded).
inline std::string capture(const std::string& cmd) {
    std::string out;
    FILE* p = ::popen((cmd + " 2>/dev/null").c_str(), "r");
    char buf[4096];
    size_t n;
    while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    if (p)
        ::pclose(p);
    return out;
}

inline void write_text(const std::filesystem::path& p, const std::string& s) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << s;
}

// A CA and a server certificate for localhost/127.0.0.1 signed by it: <dir>/ca.crt, server.{crt,key}.
inline void make_certs(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    std::string d = dir.string();
    ASSERT_EQ(run("openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout " + d + "/ca.key -out " + d +
                  "/ca.crt -subj '/CN=raind test CA' -addext basicConstraints=critical,CA:TRUE"
                  " -addext keyUsage=critical,keyCertSign,cRLSign"),
              0);
    ASSERT_EQ(run("openssl req -newkey rsa:2048 -nodes -keyout " + d + "/server.key -out " + d +
                  "/server.csr -subj /CN=localhost"),
              0);
    write_text(dir / "ext.cnf", "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
    ASSERT_EQ(run("openssl x509 -req -in " + d + "/server.csr -CA " + d + "/ca.crt -CAkey " + d +
                  "/ca.key -CAcreateserial -days 2 -sha256 -out " + d + "/server.crt -extfile " + d + "/ext.cnf"),
              0);
}

// docker-registry serving `config` (YAML without the http.addr line) on a free port.
class RegistryProcess {
public:
    RegistryProcess(const std::filesystem::path& dir, const std::string& extra_config)
        : port_(free_port()) {
        std::filesystem::create_directories(dir / "data");
        std::string config = "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
                             "storage:\n  filesystem:\n    rootdirectory: " + (dir / "data").string() +
                             "\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n"
                             "http:\n  addr: 127.0.0.1:" + std::to_string(port_) + "\n  secret: raind-test\n" +
                             extra_config;
        write_text(dir / "config.yml", config);
        pid_ = ::fork();
        if (pid_ == 0) {
            std::string log = (dir / "registry.log").string();
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            ::dup2(fd, 1);
            ::dup2(fd, 2);
            ::execl("/usr/bin/docker-registry", "docker-registry", "serve", (dir / "config.yml").c_str(), nullptr);
            ::_exit(127);
        }
        // Ready once it accepts connections (with client-certificate TLS nothing else answers).
        for (int i = 0; i < 400; ++i) {
            int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in a{};
            a.sin_family = AF_INET;
            a.sin_port = htons(static_cast<uint16_t>(port_));
            a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
            ::close(fd);
            if (up)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ADD_FAILURE() << "docker-registry did not start: " << read_file_text(dir / "registry.log");
    }
    ~RegistryProcess() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    int port() const { return port_; }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }

private:
    int port_;
    pid_t pid_ = -1;
};

struct BuiltLayer {
    std::string gz;       // the blob
    Digest diff_id;       // sha256 of the plain tar
};

inline BuiltLayer build_layer(const std::function<void(TarBuilder&)>& add) {
    TarBuilder plain, gz(Compression::gzip);
    add(plain);
    add(gz);
    return {gz.bytes(), sha256_of(plain.bytes())};
}

inline BuiltLayer busybox_layer() {
    static BuiltLayer layer = build_layer([](TarBuilder& t) {
        t.dir("bin").file("bin/busybox", read_file_text("/bin/busybox"), 0755);
        for (const char* app : {"sh", "ls", "cat", "echo", "true"})
            t.symlink(std::string("bin/") + app, "busybox");
        t.dir("etc").file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n").file("etc/motd", "welcome\n");
        t.file("etc/layer", "1\n").dir("opt/base").file("opt/base/a.txt", "a").file("opt/base/b.txt", "b");
        t.dir("tmp", 01777);
    });
    return layer;
}

// An OCI image layout written by hand (blobs + index.json), pushed with skopeo.
class OciLayout {
public:
    explicit OciLayout(std::filesystem::path dir) : dir_(std::move(dir)) {
        write_text(dir_ / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
        std::filesystem::create_directories(dir_ / "blobs/sha256");
    }

    nlohmann::json blob(const std::string& data, const std::string& media_type) {
        Digest d = sha256_of(data);
        write_text(dir_ / "blobs/sha256" / std::string(d.hex()), data);
        return {{"mediaType", media_type}, {"digest", d.str()}, {"size", data.size()}};
    }

    // One image; returns its manifest descriptor (not yet tagged).
    nlohmann::json image(const std::vector<BuiltLayer>& layers, const std::string& arch = "amd64",
                         const std::string& variant = "", nlohmann::json config_extra = nlohmann::json::object()) {
        nlohmann::json diff_ids = nlohmann::json::array(), descs = nlohmann::json::array();
        for (const auto& l : layers) {
            diff_ids.push_back(l.diff_id.str());
            descs.push_back(blob(l.gz, "application/vnd.oci.image.layer.v1.tar+gzip"));
        }
        nlohmann::json config = {{"created", "2024-01-01T00:00:00Z"},
                                 {"architecture", arch},
                                 {"os", "linux"},
                                 {"config", {{"Cmd", {"/bin/sh"}}, {"Env", {"PATH=/bin"}}}},
                                 {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
        if (!variant.empty())
            config["variant"] = variant;
        config.update(config_extra);
        nlohmann::json manifest = {{"schemaVersion", 2},
                                   {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                                   {"config", blob(config.dump(), "application/vnd.oci.image.config.v1+json")},
                                   {"layers", descs}};
        auto desc = blob(manifest.dump(), "application/vnd.oci.image.manifest.v1+json");
        desc["platform"] = {{"os", "linux"}, {"architecture", arch}};
        if (!variant.empty())
            desc["platform"]["variant"] = variant;
        return desc;
    }

    nlohmann::json index(const std::vector<nlohmann::json>& manifests) {
        nlohmann::json idx = {{"schemaVersion", 2},
                              {"mediaType", "application/vnd.oci.image.index.v1+json"},
                              {"manifests", manifests}};
        return blob(idx.dump(), "application/vnd.oci.image.index.v1+json");
    }

    void tag(const std::string& name, nlohmann::json desc) {
        desc.erase("platform");
        desc["annotations"] = {{"org.opencontainers.image.ref.name", name}};
        refs_.push_back(desc);
        write_text(dir_ / "index.json",
                   nlohmann::json({{"schemaVersion", 2}, {"manifests", refs_}}).dump());
    }
    const std::filesystem::path& dir() const { return dir_; }

private:
    std::filesystem::path dir_;
    nlohmann::json refs_ = nlohmann::json::array();
};

} // namespace raind::images::test
