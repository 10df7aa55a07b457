#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "transport.hpp"

using namespace raind::images;

TEST(Url, ParsesWhatRegistriesSendInLocationAndRealm) {
    auto u = Url::parse("https://auth.docker.io/token?service=registry.docker.io");
    EXPECT_EQ(u.scheme, "https");
    EXPECT_EQ(u.host, "auth.docker.io");
    EXPECT_EQ(u.port, 443);
    EXPECT_EQ(u.target, "/token?service=registry.docker.io");
    EXPECT_EQ(u.origin(), "https://auth.docker.io");

    auto p = Url::parse("http://127.0.0.1:5000/v2/library/busybox/blobs/uploads/abc?_state=x%3D");
    EXPECT_EQ(p.port, 5000);
    EXPECT_EQ(p.origin(), "http://127.0.0.1:5000");
    EXPECT_EQ(p.target, "/v2/library/busybox/blobs/uploads/abc?_state=x%3D");

    auto v6 = Url::parse("http://[::1]:5000");
    EXPECT_EQ(v6.host, "::1");
    EXPECT_EQ(v6.port, 5000);
    EXPECT_EQ(v6.target, "/");
    EXPECT_EQ(v6.origin(), "http://[::1]:5000");
    EXPECT_EQ(Url::parse("http://h?x=1").target, "/?x=1");
    EXPECT_EQ(Url::parse("http://h:80/").origin(), "http://h");

    EXPECT_THROW(Url::parse("/v2/relative"), TransportError);
    EXPECT_THROW(Url::parse("ftp://h/x"), TransportError);
    EXPECT_THROW(Url::parse("http://h:99999/"), TransportError);
    EXPECT_THROW(Url::parse("http:///x"), TransportError);
}

TEST(HttpResponse, HeadersAreCaseInsensitive) {
    HttpResponse r;
    r.headers.emplace("docker-content-digest", "sha256:x");
    EXPECT_EQ(r.header("Docker-Content-Digest"), "sha256:x");
    EXPECT_EQ(r.header("Location"), "");
}

TEST(RegistryErrors, CarryStatusCodeAndMessage) {
    HttpResponse r;
    r.status = 404;
    r.body = R"({"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]})";
    try {
        throw_registry_error("GET http://h/v2/x/tags/list", r);
    } catch (const AuthenticationError&) {
        FAIL() << "404 is not an authentication error";
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.status(), 404);
        EXPECT_EQ(e.code(), "NAME_UNKNOWN");
        EXPECT_STREQ(e.what(), "GET http://h/v2/x/tags/list: 404 NAME_UNKNOWN: repository name not known to registry");
    }
    r.status = 401;
    r.body = "not json\n";
    EXPECT_THAT([&] { throw_registry_error("GET u", r); },
                testing::ThrowsMessage<AuthenticationError>(testing::StrEq("GET u: 401: not json")));
}

namespace {

// A plain-HTTP "registry" on 127.0.0.1 that counts the TLS handshakes it is offered (and drops
// them) and answers every HTTP request with 200 "{}": what an insecure registry's probe meets.
class PlainRegistry {
public:
    PlainRegistry() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof addr;
        if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) < 0 || ::listen(fd_, 16) < 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) < 0)
            throw std::runtime_error("cannot listen on 127.0.0.1");
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~PlainRegistry() {
        ::shutdown(fd_, SHUT_RDWR);
        thread_.join();
        ::close(fd_);
    }
    std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
    std::atomic<int> tls_hellos{0}, requests{0}, connections{0};

private:
    void serve() {
        while (true) {
            int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (c < 0)
                return;
            ++connections;
            std::thread([this, c] {
                char buf[4096];
                std::string seen;
                ssize_t n;
                while ((n = ::read(c, buf, sizeof buf)) > 0) {
                    if (seen.empty() && buf[0] == 0x16) { // TLS record: handshake
                        ++tls_hellos;
                        break;
                    }
                    seen.append(buf, static_cast<size_t>(n));
                    size_t end;
                    while ((end = seen.find("\r\n\r\n")) != std::string::npos) {
                        seen.erase(0, end + 4);
                        ++requests;
                        const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}";
                        if (::write(c, reply, sizeof reply - 1) < 0)
                            break;
                    }
                }
                ::close(c);
            }).detach();
        }
    }
    int fd_ = -1;
    int port_ = 0;
    std::thread thread_;
};

} // namespace

TEST(Session, AnInsecureRegistrysSchemeIsProbedOnceForEveryClient) {
    PlainRegistry reg;
    RegistryOptions options;
    options.insecure = {reg.host()};
    for (int i = 0; i < 3; ++i) {
        RegistryClient client(options); // a new client per call, as the daemon makes them
        client.check_login(reg.host(), {"u", "p"});
    }
    EXPECT_EQ(reg.tls_hellos.load(), 1);
    EXPECT_EQ(reg.requests.load(), 3);
}

TEST(Session, OneClientsRequestsShareAConnection) {
    PlainRegistry reg;
    RegistryOptions options;
    options.insecure = {reg.host()};
    RegistryClient client(options);
    for (int i = 0; i < 3; ++i)
        client.check_login(reg.host(), {"u", "p"}); // one Session each, one after the other
    EXPECT_EQ(reg.requests.load(), 3);
    EXPECT_EQ(reg.connections.load() - reg.tls_hellos.load(), 1);
}
