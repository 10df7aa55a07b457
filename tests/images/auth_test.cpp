#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "auth.hpp"
#include "error.hpp"
#include "temp_dir.hpp"

using namespace raind::images;
using raind::images::test::TempDir;

TEST(Challenge, BearerWithSeveralScopes) {
    auto cs = parse_challenges(
        R"(Bearer realm="http://127.0.0.1:5001/token",service="registry-testkit",scope="repository:a:pull,push repository:b:pull")");
    ASSERT_EQ(cs.size(), 1u);
    EXPECT_EQ(cs[0].scheme, "bearer");
    EXPECT_EQ(cs[0].params.at("realm"), "http://127.0.0.1:5001/token");
    EXPECT_EQ(cs[0].params.at("service"), "registry-testkit");
    EXPECT_EQ(cs[0].scopes(), (std::vector<std::string>{"repository:a:pull,push", "repository:b:pull"}));
}

TEST(Challenge, BasicAndSeveralChallengesInOneHeader) {
    auto cs = parse_challenges(R"(Basic realm="registry-testkit", Bearer realm="https://auth.example/token",error="invalid_token")");
    ASSERT_EQ(cs.size(), 2u);
    EXPECT_EQ(cs[0].scheme, "basic");
    EXPECT_EQ(cs[0].params.at("realm"), "registry-testkit");
    EXPECT_TRUE(cs[0].scopes().empty());
    EXPECT_EQ(cs[1].scheme, "bearer");
    EXPECT_EQ(cs[1].params.at("error"), "invalid_token");
    auto unquoted = parse_challenges("BEARER Realm=http://x/t, Service=s");
    ASSERT_EQ(unquoted.size(), 1u);
    EXPECT_EQ(unquoted[0].params.at("realm"), "http://x/t");
    EXPECT_EQ(unquoted[0].params.at("service"), "s");
    EXPECT_TRUE(parse_challenges("").empty());
}

TEST(Base64, RoundTrip) {
    EXPECT_EQ(base64_encode("testuser:testpassword"), "dGVzdHVzZXI6dGVzdHBhc3N3b3Jk");
    for (std::string s : {"", "a", "ab", "abc", "abcd", "user:p@ss:with:colons"})
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_FALSE(base64_decode("abc"));
}

TEST(AuthFile, WritesDockerAndContainersFormatPrivately) {
    TempDir tmp;
    AuthFile f(tmp / "sub/auth.json");
    EXPECT_FALSE(f.get("localhost:5443")); // no file yet
    f.set("localhost:5443", {"testuser", "testpassword"});
    EXPECT_EQ(f.get("localhost:5443"), (Credentials{"testuser", "testpassword"}));
    auto j = nlohmann::json::parse(raind::images::test::read_file_text(tmp / "sub/auth.json"));
    EXPECT_EQ(j["auths"]["localhost:5443"]["auth"], "dGVzdHVzZXI6dGVzdHBhc3N3b3Jk");
    struct stat st {};
    ASSERT_EQ(::stat((tmp / "sub/auth.json").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_TRUE(f.erase("localhost:5443"));
    EXPECT_FALSE(f.erase("localhost:5443"));
    EXPECT_FALSE(f.get("localhost:5443"));
}

TEST(AuthFile, ReadsDockerKeysAndKeepsOtherSettings) {
    TempDir tmp;
    std::ofstream(tmp / "config.json") << R"({"auths":{"https://index.docker.io/v1/":{"auth":")" +
                                              base64_encode("hub:secret") + R"("}},"credsStore":"none"})";
    AuthFile f(tmp / "config.json");
    EXPECT_EQ(f.get("docker.io"), (Credentials{"hub", "secret"}));
    f.set("localhost:5000", {"a", "b"});
    auto j = nlohmann::json::parse(raind::images::test::read_file_text(tmp / "config.json"));
    EXPECT_EQ(j["credsStore"], "none");
    EXPECT_EQ(f.get("docker.io"), (Credentials{"hub", "secret"}));

    std::ofstream(tmp / "bad.json") << "{not json";
    try {
        AuthFile(tmp / "bad.json").get("x");
        FAIL();
    } catch (const raind::Error& e) {
        EXPECT_NE(std::string(e.what()).find("auth file " + (tmp / "bad.json").string() + ": invalid JSON"),
                  std::string::npos);
    }
}
