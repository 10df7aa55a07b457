#include <gtest/gtest.h>

#include <fstream>

#include "store.hpp"
#include "unpack.hpp"
#include "tar_builder.hpp"
#include "temp_dir.hpp"

namespace fs = std::filesystem;
using namespace raind::images;
using namespace raind::images::test;

namespace {

struct Layer {
    Digest blob, diff_id;
    uint64_t size;
};

Layer put_layer(Store& store, TarBuilder&& plain, TarBuilder&& gz) {
    Digest diff_id = sha256_of(plain.bytes());
    Digest blob = store.write_blob(gz.bytes());
    store.unpack_layer(blob, diff_id);
    return {blob, diff_id, gz.bytes().size()};
}

Layer base_layer(Store& s) {
    auto make = [](Compression c) {
        TarBuilder t(c);
        t.file("etc/os-release", "base\n");
        return t;
    };
    return put_layer(s, make(Compression::none), make(Compression::gzip));
}

Layer app_layer(Store& s, const std::string& text) {
    auto make = [&](Compression c) {
        TarBuilder t(c);
        t.file("app", text);
        return t;
    };
    return put_layer(s, make(Compression::none), make(Compression::gzip));
}

ImageInfo image_of(Store& s, std::vector<Layer> layers, const std::string& tag) {
    std::string config = R"({"architecture":"amd64","os":"linux","tag":")" + tag + "\"}";
    Digest cfg = s.write_blob(config);
    Digest manifest = s.write_blob(R"({"schemaVersion":2,"config":")" + cfg.str() + "\"}");
    ImageInfo info{cfg, manifest, "application/vnd.oci.image.manifest.v1+json", std::nullopt, {}, {}, 0, 0};
    for (auto& l : layers)
        info.layers.push_back({l.blob, l.diff_id, "application/vnd.oci.image.layer.v1.tar+gzip", l.size});
    return info;
}

} // namespace

TEST(Store, BlobsAreVerifiedBeforeTheyAppear) {
    TempDir tmp;
    Store store(tmp.path());
    Digest d = store.write_blob("hello");
    EXPECT_EQ(d, sha256_of("hello"));
    EXPECT_EQ(store.read_blob(d), "hello");
    EXPECT_EQ(store.blob_path(d), tmp.path() / "blobs/sha256" / std::string(d.hex()));

    Digest promised = sha256_of("the real thing");
    {
        auto w = store.blob_writer(promised, 14);
        w.write("something else", 14);
        try {
            w.commit();
            FAIL() << "mismatch accepted";
        } catch (const DigestMismatch& e) {
            EXPECT_EQ(std::string(e.what()), "blob " + promised.str() + ": digest mismatch: received content hashes to " +
                                                 sha256_of("something else").str() + " (14 bytes); discarded");
        }
    }
    EXPECT_FALSE(store.has_blob(promised));
    EXPECT_EQ(listing(tmp.path() / "blobs/sha256"), std::vector<std::string>{std::string(d.hex())});

    // Too much data is refused as it arrives; an abandoned writer leaves nothing.
    {
        auto w = store.blob_writer(promised, 3);
        EXPECT_THROW(w.write("four", 4), DigestMismatch);
    }
    EXPECT_EQ(listing(tmp.path() / "blobs/sha256").size(), 1u);
    EXPECT_THROW(store.write_blob("x", promised), DigestMismatch);
    EXPECT_EQ(listing(tmp.path() / "blobs/sha256").size(), 1u);

    // restart() drops a partial download (a retry that cannot resume).
    auto w = store.blob_writer(promised);
    w.write("garbage", 7);
    w.restart();
    w.write("the real thing", 14);
    w.commit();
    EXPECT_EQ(store.read_blob(promised), "the real thing");
}

TEST(Store, CrashLeftoversAreRemovedOnOpen) {
    TempDir tmp;
    { Store store(tmp.path()); }
    std::ofstream(tmp.path() / "blobs/sha256/.tmp-abc-123") << "partial";
    fs::create_directories(tmp.path() / "layers/.tmp-def-456/etc");
    Store store(tmp.path());
    EXPECT_TRUE(listing(tmp.path() / "blobs").size() == 1u); // just sha256/
    EXPECT_TRUE(listing(tmp.path() / "layers").empty());
}

TEST(Store, LayerWithWrongDiffIdLeavesNothing) {
    TempDir tmp;
    Store store(tmp.path());
    TarBuilder t(Compression::gzip);
    t.file("a", "a");
    Digest blob = store.write_blob(t.bytes());
    Digest wrong = sha256_of("not this layer");
    try {
        store.unpack_layer(blob, wrong);
        FAIL();
    } catch (const DigestMismatch& e) {
        EXPECT_NE(std::string(e.what()).find("config lists diff_id " + wrong.str()), std::string::npos);
    }
    EXPECT_TRUE(listing(tmp.path() / "layers").empty());

    TarBuilder evil;
    evil.file("../x", "x");
    Digest evil_blob = store.write_blob(evil.bytes());
    EXPECT_THROW(store.unpack_layer(evil_blob, sha256_of(evil.bytes())), UnsafeLayerEntry);
    EXPECT_TRUE(listing(tmp.path() / "layers").empty());
    EXPECT_FALSE(fs::exists(tmp.path() / "x"));
}

TEST(Store, SharedLayersAreStoredOnceAndRemovedWithTheLastUser) {
    TempDir tmp;
    Store store(tmp.path());
    Layer base = base_layer(store);
    Layer a = app_layer(store, "a");
    Layer b = app_layer(store, "b");
    // Unpacking the same layer again is a no-op.
    store.unpack_layer(base.blob, base.diff_id);
    // base: dir, etc, etc/os-release; a and b: dir, app.
    EXPECT_EQ(listing(tmp.path() / "layers").size(), 7u);

    auto img_a = store.add_image(image_of(store, {base, a}, "a"), {Reference::parse("localhost:5000/app:a")});
    auto img_b = store.add_image(image_of(store, {base, b}, "b"), {Reference::parse("localhost:5000/app:b")});
    EXPECT_EQ(store.images().size(), 2u);
    EXPECT_EQ(img_a.names, std::vector<std::string>{"localhost:5000/app:a"});
    ASSERT_EQ(img_a.layers.size(), 2u);
    EXPECT_EQ(img_a.layers[0].diff_id, base.diff_id);
    EXPECT_EQ(store.lower_dirs(img_a),
              (std::vector<fs::path>{store.layer_path(a.diff_id), store.layer_path(base.diff_id)}));
    EXPECT_GT(img_a.size, a.size + base.size);

    auto report = store.remove("localhost:5000/app:a");
    EXPECT_EQ(report.untagged, std::vector<std::string>{"localhost:5000/app:a"});
    ASSERT_EQ(report.deleted_images.size(), 1u);
    EXPECT_EQ(report.deleted_images[0], img_a.id);
    EXPECT_EQ(report.deleted_layers, 1u);
    EXPECT_EQ(report.deleted_blobs, 3u); // config, manifest, app layer a
    EXPECT_TRUE(store.has_layer(base.diff_id));
    EXPECT_TRUE(store.has_blob(base.blob));
    EXPECT_FALSE(store.has_layer(a.diff_id));
    EXPECT_FALSE(store.has_blob(a.blob));
    EXPECT_TRUE(store.has_layer(b.diff_id));

    store.remove(img_b.id.str());
    EXPECT_TRUE(store.images().empty());
    EXPECT_TRUE(listing(tmp.path() / "layers").empty());
    EXPECT_TRUE(listing(tmp.path() / "blobs/sha256").empty());
}

TEST(Store, NamesIdsAndPrefixes) {
    TempDir tmp;
    Store store(tmp.path());
    Layer base = base_layer(store);
    auto img = store.add_image(image_of(store, {base}, "x"), {Reference::parse("busybox")});
    EXPECT_EQ(store.image("busybox").id, img.id);
    EXPECT_EQ(store.image("docker.io/library/busybox:latest").id, img.id);
    EXPECT_EQ(store.image(std::string(img.id.hex().substr(0, 12))).id, img.id);
    EXPECT_EQ(store.image(img.id.str()).id, img.id);
    EXPECT_FALSE(store.find_image("busybox:1.0"));
    try {
        store.image("nothere");
        FAIL();
    } catch (const NoSuchImage& e) {
        EXPECT_STREQ(e.what(), "no such image: nothere");
    }

    store.tag("busybox", Reference::parse("localhost:5000/mine:v1"));
    EXPECT_EQ(store.image("busybox").names,
              (std::vector<std::string>{"docker.io/library/busybox:latest", "localhost:5000/mine:v1"}));
    // Two names: removing by id needs force; removing one name keeps the image.
    EXPECT_THROW(store.remove(img.id.str()), ImageInUse);
    auto r = store.remove("busybox");
    EXPECT_TRUE(r.deleted_images.empty());
    EXPECT_TRUE(store.has_layer(base.diff_id));
    EXPECT_EQ(store.image(img.id.str()).names, std::vector<std::string>{"localhost:5000/mine:v1"});
    store.tag("localhost:5000/mine:v1", Reference::parse("other"));
    auto forced = store.remove(std::string(img.id.hex()), true);
    EXPECT_EQ(forced.untagged.size(), 2u);
    EXPECT_FALSE(store.has_layer(base.diff_id));
}

TEST(Store, PruneRemovesImagesThatLostTheirName) {
    TempDir tmp;
    Store store(tmp.path());
    Layer base = base_layer(store);
    Layer old_app = app_layer(store, "v1");
    Layer new_app = app_layer(store, "v2");
    auto old_img = store.add_image(image_of(store, {base, old_app}, "v1"), {Reference::parse("app")});
    auto new_img = store.add_image(image_of(store, {base, new_app}, "v2"), {Reference::parse("app")});
    EXPECT_TRUE(store.image(old_img.id.str()).names.empty()); // the name moved on
    EXPECT_EQ(store.image("app").id, new_img.id);
    auto report = store.prune();
    EXPECT_EQ(report.deleted_images, std::vector<Digest>{old_img.id});
    EXPECT_EQ(report.deleted_layers, 1u);
    EXPECT_FALSE(store.has_layer(old_app.diff_id));
    EXPECT_TRUE(store.has_layer(base.diff_id));
    EXPECT_TRUE(store.has_layer(new_app.diff_id));
    EXPECT_TRUE(store.prune().deleted_images.empty());
}

TEST(Store, LeasesProtectContentAnUnfinishedPullNeeds) {
    TempDir tmp;
    Store store(tmp.path());
    Layer base = base_layer(store);
    auto img = store.add_image(image_of(store, {base}, "x"), {Reference::parse("x")});
    {
        auto lease = store.lease({base.blob}, {base.diff_id});
        store.remove("x");
        EXPECT_TRUE(store.has_blob(base.blob));
        EXPECT_TRUE(store.has_layer(base.diff_id));
        EXPECT_FALSE(store.has_blob(img.id));
    }
    // Re-adding an image with the leased content works; removal then collects it.
    auto again = store.add_image(image_of(store, {base}, "y"), {Reference::parse("y")});
    store.remove("y");
    EXPECT_FALSE(store.has_blob(base.blob));
    EXPECT_FALSE(store.has_layer(base.diff_id));
}

TEST(Store, MetadataSurvivesReopening) {
    TempDir tmp;
    Digest id = sha256_of("");
    {
        Store store(tmp.path());
        Layer base = base_layer(store);
        id = store.add_image(image_of(store, {base}, "x"), {Reference::parse("x:1")}).id;
    }
    Store store(tmp.path());
    EXPECT_EQ(store.image("x:1").id, id);
    // An image can only be recorded once its content is there.
    Layer ghost{sha256_of("no blob"), sha256_of("no layer"), 1};
    try {
        store.add_image(image_of(store, {ghost}, "ghost"), {Reference::parse("ghost")});
        FAIL();
    } catch (const raind::Error& e) {
        EXPECT_NE(std::string(e.what()).find("layer " + ghost.diff_id.str() + " is not unpacked"), std::string::npos);
    }
    EXPECT_FALSE(store.find_image("ghost"));
}
