// OCI layouts and docker-save tarballs, checked against skopeo as the other implementation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "archive.hpp"
#include "registry_fixture.hpp"

namespace fs = std::filesystem;
using namespace raind::images;
using namespace raind::images::test;
using testing::HasSubstr;

namespace {

BuiltLayer layered_top() {
    return build_layer([](TarBuilder& t) {
        t.file("hello.txt", "hello\n").file("etc/layer", "2\n").file("etc/.wh.motd", "");
        t.file("opt/base/.wh..wh..opq", "").file("opt/base/c.txt", "c");
    });
}

struct Fixtures {
    TempDir dir;
    OciLayout oci{dir / "oci"};
    Fixtures() {
        oci.tag("busybox", oci.image({busybox_layer()}));
        oci.tag("layered", oci.image({busybox_layer(), layered_top()}));
        auto plat = [](const std::string& p) { return build_layer([&](TarBuilder& t) { t.file("etc/platform", p); }); };
        oci.tag("multiarch", oci.index({oci.image({busybox_layer(), plat("amd64")}, "amd64"),
                                        oci.image({busybox_layer(), plat("arm64")}, "arm64", "v8")}));
    }
};

void expect_whiteouts(Store& store, const ImageInfo& layered) {
    ASSERT_EQ(layered.layers.size(), 2u);
    struct stat st {};
    fs::path top = store.layer_path(layered.layers[1].diff_id);
    ASSERT_EQ(::lstat((top / "etc/motd").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
    EXPECT_EQ(read_file_text(top / "etc/layer"), "2\n");
}

} // namespace

TEST(OciLayout, ImportsEveryImageAndPicksThePlatform) {
    Fixtures f;
    TempDir tmp;
    Store store(tmp / "store");
    auto imported = import_oci_layout(store, f.oci.dir());
    ASSERT_EQ(imported.size(), 3u);
    EXPECT_EQ(imported[0].names, std::vector<std::string>{"docker.io/library/busybox:latest"});
    EXPECT_EQ(read_file_text(store.layer_path(imported[0].layers[0].diff_id) / "bin/busybox"), read_file_text("/bin/busybox"));
    expect_whiteouts(store, imported[1]);
    EXPECT_EQ(read_file_text(store.layer_path(imported[2].layers[1].diff_id) / "etc/platform"), "amd64");
    EXPECT_TRUE(imported[2].index.has_value());
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp / "store/layers"), fs::directory_iterator()), 3);

    // One image under a name of our choosing, for another platform.
    OciLayout only(tmp / "only");
    only.tag("x", f.oci.index({f.oci.image({busybox_layer()}, "amd64"), f.oci.image({busybox_layer()}, "arm64", "v8")}));
    fs::copy(f.oci.dir() / "blobs", tmp / "only/blobs", fs::copy_options::recursive | fs::copy_options::skip_existing);
    auto arm = import_oci_layout(store, tmp / "only", Reference::parse("localhost/arm:1"), Platform::parse("linux/arm64"));
    EXPECT_EQ(arm.at(0).names, std::vector<std::string>{"localhost/arm:1"});
    EXPECT_THROW(import_oci_layout(store, f.oci.dir(), Reference::parse("x")), raind::Error);
}

TEST(OciLayout, CorruptBlobIsRejectedAndLeavesNothing) {
    Fixtures f;
    TempDir tmp;
    Store store(tmp / "store");
    // Damage busybox's layer in the layout.
    Digest layer = sha256_of(busybox_layer().gz);
    fs::path blob = f.oci.dir() / "blobs/sha256" / std::string(layer.hex());
    std::string bytes = read_file_text(blob);
    bytes[bytes.size() / 2] ^= 1;
    write_text(blob, bytes);
    EXPECT_THROW(import_oci_layout(store, f.oci.dir()), DigestMismatch);
    EXPECT_TRUE(store.images().empty());
    EXPECT_TRUE(listing(tmp / "store/blobs/sha256").empty());
    EXPECT_TRUE(listing(tmp / "store/layers").empty());
    EXPECT_THAT([&] { import_oci_layout(store, tmp.path()); }, testing::ThrowsMessage<raind::Error>(HasSubstr("is not an OCI image layout")));
}

TEST(OciLayout, ExportIsReadBySkopeoAndImportsBack) {
    Fixtures f;
    TempDir tmp;
    Store store(tmp / "store");
    auto imported = import_oci_layout(store, f.oci.dir());
    export_oci_layout(store, {"busybox"}, tmp / "out");
    std::string raw = capture("skopeo --insecure-policy inspect --raw oci:" + (tmp / "out").string() + ":latest");
    ASSERT_FALSE(raw.empty());
    if (raw.back() == '\n')
        raw.pop_back();
    EXPECT_EQ(sha256_of(raw), imported[0].manifest);
    Store fresh(tmp / "fresh");
    auto back = import_oci_layout(fresh, tmp / "out");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].id, imported[0].id);
    EXPECT_EQ(back[0].names, std::vector<std::string>{"docker.io/library/busybox:latest"});
}

TEST(DockerArchive, RoundTripAndSkopeoReadsIt) {
    Fixtures f;
    TempDir tmp;
    Store store(tmp / "store");
    auto imported = import_oci_layout(store, f.oci.dir());
    export_docker_archive(store, {"busybox", "layered"}, tmp / "save.tar");
    auto raw = nlohmann::json::parse(capture("skopeo --insecure-policy inspect --raw docker-archive:" +
                                             (tmp / "save.tar").string() + ":busybox:latest"));
    EXPECT_EQ(raw["config"]["digest"], imported[0].id.str());

    Store fresh(tmp / "fresh");
    auto back = import_archive(fresh, tmp / "save.tar");
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].id, imported[0].id);
    EXPECT_EQ(back[1].id, imported[1].id);
    EXPECT_EQ(back[1].names, std::vector<std::string>{"docker.io/library/layered:latest"});
    expect_whiteouts(fresh, back[1]);
    EXPECT_EQ(back[1].layers[0].diff_id, back[0].layers[0].diff_id);
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp / "fresh/layers"), fs::directory_iterator()), 2);
}

TEST(DockerArchive, ImportsWhatSkopeoWrites) {
    Fixtures f;
    TempDir tmp;
    ASSERT_EQ(run("skopeo --insecure-policy copy --quiet oci:" + f.oci.dir().string() + ":layered docker-archive:" +
                  (tmp / "sk.tar").string() + ":localhost/layered:v1"),
              0);
    Store store(tmp / "store");
    auto back = import_archive(store, tmp / "sk.tar");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].names, std::vector<std::string>{"localhost/layered:v1"});
    expect_whiteouts(store, back[0]);
}

TEST(DockerArchive, PathsInManifestJsonCannotReachOutside) {
    TempDir tmp;
    TarBuilder t;
    t.file("manifest.json", R"([{"Config":"c.json","RepoTags":["evil:1"],"Layers":["../../../etc/passwd"]}])");
    t.file("c.json", R"({"rootfs":{"type":"layers","diff_ids":[]}})");
    t.save(tmp / "evil.tar");
    Store store(tmp / "store");
    EXPECT_THAT([&] { import_archive(store, tmp / "evil.tar"); },
                testing::ThrowsMessage<raind::Error>(HasSubstr("names \"../../../etc/passwd\", which is not in the archive")));
    EXPECT_TRUE(store.images().empty());
    EXPECT_TRUE(listing(tmp / "store/blobs/sha256").empty());
}

TEST(OciArchive, ATarOfALayoutLoadsLikeTheLayout) {
    Fixtures f;
    TempDir tmp;
    // As a person makes one: `tar -C dir -cf x.tar .`, every entry under "./".
    ASSERT_EQ(run("tar -C " + f.oci.dir().string() + " -cf " + (tmp / "oci.tar").string() + " ."), 0);
    Store store(tmp / "store");
    auto loaded = import_archive(store, tmp / "oci.tar");
    ASSERT_EQ(loaded.size(), 3u);
    EXPECT_EQ(loaded[0].names, std::vector<std::string>{"docker.io/library/busybox:latest"});
    expect_whiteouts(store, loaded[1]);
    EXPECT_EQ(read_file_text(store.layer_path(loaded[2].layers[1].diff_id) / "etc/platform"), "amd64");
}

TEST(OciArchive, OnlyDigestNamedBlobsAreTaken) {
    TempDir tmp;
    TarBuilder t;
    t.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
    t.file("index.json", R"({"schemaVersion":2,"manifests":[]})");
    t.file("blobs/sha256/../../../escape", "x");
    t.save(tmp / "evil.tar");
    Store store(tmp / "store");
    EXPECT_THAT([&] { import_archive(store, tmp / "evil.tar"); },
                testing::ThrowsMessage<raind::Error>(HasSubstr("is not a sha256 blob name")));
    EXPECT_TRUE(store.images().empty());
}

TEST(Archive, NeitherKindIsNamedAsSuch) {
    TempDir tmp;
    TarBuilder t;
    t.file("README", "not an image\n");
    t.save(tmp / "other.tar");
    Store store(tmp / "store");
    EXPECT_THAT([&] { import_archive(store, tmp / "other.tar"); },
                testing::ThrowsMessage<raind::Error>(HasSubstr("neither a docker-save archive (no manifest.json) nor an OCI layout")));
    EXPECT_TRUE(store.images().empty());
}
