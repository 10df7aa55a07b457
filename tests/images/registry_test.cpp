// The client against real docker-registry processes (plain HTTP, TLS + Basic auth, Bearer
// tokens) serving images built here from busybox-static and pushed by skopeo.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <set>

#include "pull.hpp"
#include "registry_fixture.hpp"
#include "token_server.hpp"

namespace fs = std::filesystem;
using namespace raind::images;
using namespace raind::images::test;
using testing::HasSubstr;

namespace {

std::string skopeo_copy(const std::string& args) {
    return "skopeo --insecure-policy copy --quiet " + args;
}

// Busybox, a two-layer image with whiteouts, and a two-platform index, as an OCI layout.
void build_fixtures(OciLayout& oci) {
    BuiltLayer base = busybox_layer();
    oci.tag("busybox", oci.image({base}));
    BuiltLayer top = build_layer([](TarBuilder& t) {
        t.file("hello.txt", "hello\n").file("etc/layer", "2\n").file("etc/.wh.motd", "");
        t.file("opt/base/.wh..wh..opq", "").file("opt/base/c.txt", "c");
    });
    oci.tag("layered", oci.image({base, top}, "amd64", "", {{"config", {{"WorkingDir", "/opt/base"}}}}));
    auto platform_layer = [](const std::string& p) {
        return build_layer([&](TarBuilder& t) { t.file("etc/platform", p + "\n"); });
    };
    auto amd64 = oci.image({base, platform_layer("linux/amd64")}, "amd64");
    auto arm64 = oci.image({base, platform_layer("linux/arm64/v8")}, "arm64", "v8");
    oci.tag("multiarch", oci.index({amd64, arm64}));
}

// :latest in Docker schema 2 (a manifest list for multiarch), :oci as OCI manifest / index.
void push_fixtures(const OciLayout& oci, const std::string& host, const std::string& dest_args) {
    std::string src = "oci:" + oci.dir().string() + ":";
    std::string dst = "docker://" + host + "/library/";
    for (const char* name : {"busybox", "layered"}) {
        EXPECT_EQ(run(skopeo_copy("--format v2s2 " + dest_args + " " + src + name + " " + dst + name + ":latest")), 0);
        EXPECT_EQ(run(skopeo_copy("--format oci " + dest_args + " " + src + name + " " + dst + name + ":oci")), 0);
    }
    EXPECT_EQ(run(skopeo_copy("--all --format v2s2 " + dest_args + " " + src + "multiarch " + dst + "multiarch:latest")), 0);
    EXPECT_EQ(run(skopeo_copy("--all --format oci " + dest_args + " " + src + "multiarch " + dst + "multiarch:oci")), 0);
}

std::string top_file(Store& store, const ImageInfo& info, const std::string& path);

// Every fixture in both formats, multiarch for both platforms; checks what landed on disk.
void pull_every_fixture(RegistryClient& client, Store& store, const std::string& host) {
    for (const char* tag : {"latest", "oci"}) {
        bool oci = std::string(tag) == "oci";
        auto bb = pull_image(client, store, Reference::parse(host + "/library/busybox:" + tag));
        EXPECT_EQ(bb.manifest_media_type, oci ? media_type::oci_manifest : media_type::docker_manifest);
        EXPECT_EQ(read_file_text(store.layer_path(bb.layers[0].diff_id) / "bin/busybox"), read_file_text("/bin/busybox"));
        auto layered = pull_image(client, store, Reference::parse(host + "/library/layered:" + tag));
        EXPECT_EQ(top_file(store, layered, "etc/layer"), "2\n");
        auto ref = Reference::parse(host + "/library/multiarch:" + tag);
        auto amd = pull_image(client, store, ref);
        EXPECT_EQ(top_file(store, amd, "etc/platform"), "linux/amd64\n");
        auto arm = pull_image(client, store, ref, Platform::parse("linux/arm64"));
        EXPECT_EQ(top_file(store, arm, "etc/platform"), "linux/arm64/v8\n");
    }
    // One busybox layer for all of them.
    std::set<std::string> bases;
    for (const auto& i : store.images())
        bases.insert(i.layers[0].diff_id.str());
    EXPECT_EQ(bases.size(), 1u);
}

struct PlainRegistry {
    TempDir dir;
    OciLayout oci{dir / "oci"};
    std::unique_ptr<RegistryProcess> registry;

    PlainRegistry() {
        build_fixtures(oci);
        registry = std::make_unique<RegistryProcess>(dir / "registry", "");
        push_fixtures(oci, registry->host(), "--dest-tls-verify=false");
    }
    std::string host() const { return registry->host(); }
    RegistryOptions options() const {
        RegistryOptions o;
        o.insecure = {host()};
        o.cert_dirs = {};
        return o;
    }
};

class RealRegistry : public testing::Test {
protected:
    static void SetUpTestSuite() { plain = new PlainRegistry(); }
    static void TearDownTestSuite() {
        delete plain;
        plain = nullptr;
    }
    static PlainRegistry* plain;
    TempDir tmp;
};
PlainRegistry* RealRegistry::plain = nullptr;

size_t count_entries(const fs::path& dir) {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir))
        ++n;
    return n;
}

std::string top_file(Store& store, const ImageInfo& info, const std::string& path) {
    return read_file_text(store.layer_path(info.layers.back().diff_id) / path);
}

} // namespace

TEST_F(RealRegistry, PullsEveryFixtureInBothFormatsAndSharesLayers) {
    Store store(tmp / "store");
    RegistryClient client(plain->options());
    std::string h = plain->host();
    auto bb = pull_image(client, store, Reference::parse(h + "/library/busybox:latest"));
    auto bb_oci = pull_image(client, store, Reference::parse(h + "/library/busybox:oci"));
    EXPECT_EQ(bb.manifest_media_type, media_type::docker_manifest);
    EXPECT_EQ(bb_oci.manifest_media_type, media_type::oci_manifest);
    EXPECT_NE(bb.manifest, bb_oci.manifest);
    EXPECT_EQ(bb.id, bb_oci.id); // same config: one image with two names
    EXPECT_EQ(store.image(h + "/library/busybox:oci").names,
              (std::vector<std::string>{h + "/library/busybox:latest", h + "/library/busybox:oci"}));
    fs::path root = store.layer_path(bb.layers[0].diff_id);
    EXPECT_EQ(read_file_text(root / "bin/busybox"), read_file_text("/bin/busybox"));
    EXPECT_EQ(fs::read_symlink(root / "bin/sh"), "busybox");
    struct stat st {};
    ASSERT_EQ(::stat((root / "tmp").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 01777u);

    for (const char* tag : {"latest", "oci"}) {
        auto layered = pull_image(client, store, Reference::parse(h + "/library/layered:" + tag));
        ASSERT_EQ(layered.layers.size(), 2u);
        EXPECT_EQ(layered.layers[0].diff_id, bb.layers[0].diff_id);
        EXPECT_EQ(top_file(store, layered, "etc/layer"), "2\n");
        fs::path top = store.layer_path(layered.layers[1].diff_id);
        ASSERT_EQ(::lstat((top / "etc/motd").c_str(), &st), 0);
        EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) << "whiteout";
        char v = 0;
        EXPECT_EQ(::getxattr((top / "opt/base").c_str(), "trusted.overlay.opaque", &v, 1), 1);
        EXPECT_EQ(v, 'y');
        EXPECT_EQ(store.lower_dirs(layered), (std::vector<fs::path>{top, root}));
    }
    // busybox's layer is stored once for all four pulls: two layer dirs in all.
    EXPECT_EQ(count_entries(tmp / "store/layers"), 2u);
    EXPECT_EQ(store.images().size(), 2u);

    // Removing busybox keeps the layer layered still uses; removing layered empties the store.
    store.remove(h + "/library/busybox:latest");
    store.remove(h + "/library/busybox:oci");
    EXPECT_TRUE(store.has_layer(bb.layers[0].diff_id));
    EXPECT_FALSE(store.has_blob(bb.id));
    store.remove(h + "/library/layered:latest");
    store.remove(h + "/library/layered:oci");
    EXPECT_TRUE(listing(tmp / "store/layers").empty());
    EXPECT_TRUE(listing(tmp / "store/blobs/sha256").empty());
}

TEST_F(RealRegistry, MultiarchPicksAmd64ByDefaultAndArm64OnRequest) {
    std::string h = plain->host();
    for (const char* tag : {"latest", "oci"}) {
        TempDir t;
        Store store(t / "store");
        RegistryClient client(plain->options());
        auto ref = Reference::parse(h + "/library/multiarch:" + tag);
        auto amd = pull_image(client, store, ref, Platform{});
        EXPECT_EQ(top_file(store, amd, "etc/platform"), "linux/amd64\n") << tag;
        ASSERT_TRUE(amd.index.has_value());
        auto arm = pull_image(client, store, ref, Platform::parse("linux/arm64"));
        EXPECT_EQ(top_file(store, arm, "etc/platform"), "linux/arm64/v8\n") << tag;
        EXPECT_NE(arm.id, amd.id);
        EXPECT_EQ(arm.layers[0].diff_id, amd.layers[0].diff_id);
        try {
            pull_image(client, store, ref, Platform::parse("linux/s390x"));
            FAIL();
        } catch (const raind::Error& e) {
            EXPECT_THAT(e.what(), HasSubstr("no image for platform linux/s390x"));
        }
    }
}

TEST_F(RealRegistry, PushMountsAcrossRepositoriesAndPullsBack) {
    std::string h = plain->host();
    Store store(tmp / "store");
    RegistryClient client(plain->options());
    auto bb = pull_image(client, store, Reference::parse(h + "/library/busybox:latest"));
    std::vector<TransferEvent::Kind> kinds;
    Digest pushed = push_image(client, store, h + "/library/busybox:latest", Reference::parse(h + "/team/copy:v1"),
                               [&](const TransferEvent& e) { kinds.push_back(e.kind); });
    EXPECT_EQ(pushed, bb.manifest);
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), TransferEvent::Kind::blob_mounted), 2); // layer + config
    // Another implementation sees it.
    std::string raw = capture("skopeo inspect --raw --tls-verify=false docker://" + h + "/team/copy:v1");
    if (!raw.empty() && raw.back() == '\n') // skopeo adds a newline when printing
        raw.pop_back();
    EXPECT_EQ(sha256_of(raw), pushed);

    TempDir other;
    Store fresh(other / "store");
    EXPECT_EQ(pull_image(client, fresh, Reference::parse(h + "/team/copy:v1")).id, bb.id);

    EXPECT_THAT(client.list_tags(Reference::parse(h + "/library/busybox")), testing::UnorderedElementsAre("latest", "oci"));
    EXPECT_THAT(client.catalog(h), testing::IsSupersetOf({"library/busybox", "library/layered", "library/multiarch", "team/copy"}));
    client.delete_manifest(Reference::parse(h + "/team/copy:v1"));
    try {
        client.get_manifest(Reference::parse(h + "/team/copy:v1"));
        FAIL();
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.status(), 404);
    }
}

TEST(TlsRegistry, BasicAuthOverTlsWithATestCa) {
    TempDir tmp;
    make_certs(tmp / "certs");
    ASSERT_EQ(run("htpasswd -Bbc " + (tmp / "htpasswd").string() + " testuser testpassword"), 0);
    RegistryProcess registry(tmp / "registry",
                             "  tls:\n    certificate: " + (tmp / "certs/server.crt").string() + "\n    key: " +
                                 (tmp / "certs/server.key").string() + "\nauth:\n  htpasswd:\n    realm: raind-test\n"
                                 "    path: " + (tmp / "htpasswd").string() + "\n");
    std::string h = registry.host();
    write_text(tmp / "certs.d" / h / "ca.crt", read_file_text(tmp / "certs/ca.crt"));
    OciLayout oci(tmp / "oci");
    build_fixtures(oci);
    push_fixtures(oci, h, "--dest-cert-dir " + (tmp / "certs.d" / h).string() + " --dest-creds testuser:testpassword");
    auto ref = Reference::parse(h + "/library/busybox:latest");

    // Untrusted CA: refused with a hint.
    {
        RegistryOptions o;
        o.cert_dirs = {tmp / "nowhere"};
        RegistryClient client(o);
        try {
            client.get_manifest(ref);
            FAIL();
        } catch (const TransportError& e) {
            EXPECT_THAT(e.what(), HasSubstr("TLS certificate not trusted"));
        }
    }
    RegistryOptions o;
    o.cert_dirs = {tmp / "certs.d"};
    o.auth_files = {tmp / "auth.json"};
    // Trusted CA, no credentials.
    {
        RegistryClient client(o);
        try {
            client.get_manifest(ref);
            FAIL();
        } catch (const AuthenticationError& e) {
            EXPECT_THAT(e.what(), HasSubstr("raind login " + h));
        }
    }
    // Login checks the password before anything is saved.
    {
        RegistryClient client(o);
        EXPECT_THROW(client.check_login(h, {"testuser", "wrong"}), AuthenticationError);
        client.check_login(h, {"testuser", "testpassword"});
        AuthFile(tmp / "auth.json").set(h, {"testuser", "testpassword"});
    }
    Store store(tmp / "store");
    RegistryClient client(o);
    pull_every_fixture(client, store, h);
    auto info = store.image(ref.str());

    // Chunked push with Basic auth (no mount source on this registry under another name).
    RegistryOptions chunked = o;
    chunked.upload_chunk_size = 256 * 1024;
    RegistryClient chunky(chunked);
    Digest pushed = push_image(chunky, store, h + "/library/busybox:latest", Reference::parse(h + "/other/bb:chunked"));
    EXPECT_EQ(client.get_manifest(Reference::parse(h + "/other/bb:chunked")).digest, pushed);

    // Insecure: TLS without verification works without the CA.
    RegistryOptions insecure;
    insecure.insecure = {h};
    insecure.cert_dirs = {};
    insecure.credentials[h] = {"testuser", "testpassword"};
    RegistryClient loose(insecure);
    EXPECT_EQ(loose.get_manifest(ref).digest, info.manifest);
}

TEST(TokenRegistry, AnonymousPullTokenPushAndBadPassword) {
    TempDir tmp;
    make_certs(tmp / "certs");
    TokenServer tokens(tmp / "certs");
    RegistryProcess registry(tmp / "registry", tokens.registry_config(tmp / "certs"));
    std::string h = registry.host();
    OciLayout oci(tmp / "oci");
    build_fixtures(oci);
    push_fixtures(oci, h, "--dest-tls-verify=false --dest-creds testuser:testpassword");
    RegistryOptions o;
    o.insecure = {h};
    auto ref = Reference::parse(h + "/library/busybox:oci");
    {
        Store store(tmp / "anon");
        RegistryClient anonymous(o);
        pull_every_fixture(anonymous, store, h);
        try {
            push_image(anonymous, store, ref.str(), Reference::parse(h + "/mine/bb:1"));
            FAIL() << "anonymous push accepted";
        } catch (const RegistryError& e) {
            EXPECT_THAT(e.what(), HasSubstr("POST"));
        }
    }
    RegistryOptions bad = o;
    bad.credentials[h] = {"testuser", "wrong"};
    RegistryClient wrong(bad);
    try {
        wrong.get_manifest(ref);
        FAIL();
    } catch (const AuthenticationError& e) {
        EXPECT_THAT(e.what(), HasSubstr("refused the credentials of user testuser"));
    }
    EXPECT_THROW(RegistryClient(o).check_login(h, {"testuser", "wrong"}), AuthenticationError);

    RegistryOptions good = o;
    good.credentials[h] = {"testuser", "testpassword"};
    RegistryClient user(good);
    Store store(tmp / "user");
    pull_image(user, store, ref);
    // Mounting from library/busybox makes the registry challenge for two repositories at once.
    std::vector<TransferEvent::Kind> kinds;
    Digest pushed = push_image(user, store, ref.str(), Reference::parse(h + "/mine/bb:1"),
                               [&](const TransferEvent& e) { kinds.push_back(e.kind); });
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), TransferEvent::Kind::blob_mounted), 2);
    EXPECT_EQ(user.get_manifest(Reference::parse(h + "/mine/bb:1")).digest, pushed);
    // A second push finds everything there.
    kinds.clear();
    push_image(user, store, ref.str(), Reference::parse(h + "/mine/bb:2"), [&](const TransferEvent& e) { kinds.push_back(e.kind); });
    EXPECT_EQ(std::count(kinds.begin(), kinds.end(), TransferEvent::Kind::blob_exists), 2);
}

TEST(TlsRegistry, ClientCertificateFromCertsD) {
    TempDir tmp;
    make_certs(tmp / "certs");
    std::string d = (tmp / "certs").string();
    ASSERT_EQ(run("openssl req -newkey rsa:2048 -nodes -keyout " + d + "/client.key -out " + d +
                  "/client.csr -subj /CN=raind-client"),
              0);
    write_text(tmp / "certs/client-ext.cnf", "extendedKeyUsage=clientAuth\n");
    ASSERT_EQ(run("openssl x509 -req -in " + d + "/client.csr -CA " + d + "/ca.crt -CAkey " + d +
                  "/ca.key -CAcreateserial -days 2 -sha256 -out " + d + "/client.cert -extfile " + d +
                  "/client-ext.cnf"),
              0);
    RegistryProcess registry(tmp / "registry", "  tls:\n    certificate: " + d + "/server.crt\n    key: " + d +
                                                   "/server.key\n    clientcas:\n      - " + d + "/ca.crt\n");
    std::string h = registry.host();
    fs::path certs_d = tmp / "certs.d" / h;
    write_text(certs_d / "ca.crt", read_file_text(tmp / "certs/ca.crt"));
    RegistryOptions o;
    o.cert_dirs = {tmp / "certs.d"};
    // Without the client certificate the registry ends the handshake.
    EXPECT_THROW(RegistryClient(o).catalog(h), TransportError);
    write_text(certs_d / "client.cert", read_file_text(tmp / "certs/client.cert"));
    write_text(certs_d / "client.key", read_file_text(tmp / "certs/client.key"));
    EXPECT_TRUE(RegistryClient(o).catalog(h).empty());
}
