#include <gtest/gtest.h>

#include "reference.hpp"

using raind::images::InvalidReference;
using raind::images::Reference;

namespace {
std::string norm(std::string_view s) { return Reference::parse(s).str(); }

std::string error_of(std::string_view s) {
    try {
        Reference::parse(s);
    } catch (const InvalidReference& e) {
        return e.what();
    }
    return "(parsed)";
}
} // namespace

TEST(Reference, ShortNamesGoToDockerHubLibraryLatest) {
    EXPECT_EQ(norm("busybox"), "docker.io/library/busybox:latest");
    EXPECT_EQ(norm("busybox:1.36"), "docker.io/library/busybox:1.36");
    EXPECT_EQ(norm("user/app"), "docker.io/user/app:latest");
    EXPECT_EQ(norm("docker.io/busybox"), "docker.io/library/busybox:latest");
    EXPECT_EQ(norm("index.docker.io/library/busybox:1"), "docker.io/library/busybox:1");
    auto r = Reference::parse("busybox");
    EXPECT_EQ(r.registry, "docker.io");
    EXPECT_EQ(r.repository, "library/busybox");
    EXPECT_EQ(r.tag, "latest");
    EXPECT_EQ(r.api_host(), "registry-1.docker.io");
    EXPECT_EQ(r.familiar(), "busybox:latest");
}

TEST(Reference, RegistriesWithPortsLocalhostAndIPs) {
    auto r = Reference::parse("localhost:5000/library/busybox:oci");
    EXPECT_EQ(r.registry, "localhost:5000");
    EXPECT_EQ(r.repository, "library/busybox");
    EXPECT_EQ(r.tag, "oci");
    EXPECT_EQ(r.api_host(), "localhost:5000");
    EXPECT_EQ(r.familiar(), "localhost:5000/library/busybox:oci");
    EXPECT_EQ(norm("localhost/app"), "localhost/app:latest");
    EXPECT_EQ(norm("127.0.0.1:5000/a/b/c"), "127.0.0.1:5000/a/b/c:latest");
    EXPECT_EQ(norm("quay.io/coreos/etcd:v3.5.0"), "quay.io/coreos/etcd:v3.5.0");
    EXPECT_EQ(norm("[::1]:5000/app:1"), "[::1]:5000/app:1");
    // A single component on another registry is not put under library/.
    EXPECT_EQ(Reference::parse("localhost:5000/busybox").repository, "busybox");
}

TEST(Reference, DigestsPinContentAndKeepTheTag) {
    std::string d = "sha256:" + std::string(64, 'a');
    auto r = Reference::parse("busybox@" + d);
    EXPECT_EQ(r.tag, "");
    EXPECT_EQ(r.digest, d);
    EXPECT_EQ(r.manifest_reference(), d);
    EXPECT_EQ(r.str(), "docker.io/library/busybox@" + d);
    auto both = Reference::parse("localhost:5000/x:1.0@" + d);
    EXPECT_EQ(both.tag, "1.0");
    EXPECT_EQ(both.manifest_reference(), d);
    EXPECT_EQ(both.str(), "localhost:5000/x:1.0@" + d);
}

TEST(Reference, SeparatorsInsidePathComponents) {
    EXPECT_EQ(norm("org/a.b_c__d---e"), "docker.io/org/a.b_c__d---e:latest");
    EXPECT_EQ(norm("my_org/my__app-x.y"), "docker.io/my_org/my__app-x.y:latest");
}

TEST(Reference, ErrorsNameWhatIsWrong) {
    EXPECT_EQ(error_of(""), "invalid reference: empty");
    EXPECT_EQ(error_of("Busybox"), "invalid reference \"Busybox\": path component \"Busybox\" must be lowercase");
    EXPECT_EQ(error_of("localhost:5000/MyApp"),
              "invalid reference \"localhost:5000/MyApp\": path component \"MyApp\" must be lowercase");
    EXPECT_EQ(error_of("busybox:"), "invalid reference \"busybox:\": tag \"\" is empty");
    EXPECT_EQ(error_of("busybox:-x"),
              "invalid reference \"busybox:-x\": tag \"-x\" must start with a letter, digit or '_'");
    EXPECT_EQ(error_of("busybox:" + std::string(129, 'a')).find("is longer than 128 characters") != std::string::npos,
              true);
    EXPECT_EQ(error_of("busybox@sha256:abc"),
              "invalid reference \"busybox@sha256:abc\": digest \"sha256:abc\" must have 64 hex characters, has 3");
    EXPECT_EQ(error_of("busybox@md5:abc"),
              "invalid reference \"busybox@md5:abc\": digest \"md5:abc\" uses unsupported algorithm \"md5\"");
    EXPECT_EQ(error_of("a//b"), "invalid reference \"a//b\": path component \"\" is empty");
    EXPECT_EQ(error_of("-app"),
              "invalid reference \"-app\": path component \"-app\" must start and end with a lowercase letter or digit");
    EXPECT_EQ(error_of("a/b..c"),
              "invalid reference \"a/b..c\": path component \"b..c\" has invalid separator \"..\" (allowed: '.', '_', '__', '-')");
    EXPECT_EQ(error_of("localhost:99999/a"),
              "invalid reference \"localhost:99999/a\": registry \"localhost:99999\" has port \"99999\" out of range");
    EXPECT_EQ(error_of("local_host:5000/a"),
              "invalid reference \"local_host:5000/a\": registry \"local_host:5000\" has invalid character '_' in the host name");
    EXPECT_EQ(error_of("localhost:5000/"), "invalid reference \"localhost:5000/\": repository name is empty");
    EXPECT_EQ(error_of("bu sybox"), "invalid reference \"bu sybox\": contains whitespace or control characters");
    EXPECT_NE(error_of("a/" + std::string(300, 'b')).find("longer than 255"), std::string::npos);
}
