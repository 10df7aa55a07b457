#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
