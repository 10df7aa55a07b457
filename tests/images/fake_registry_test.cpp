// The client against a registry written in the test (see fake_registry.hpp).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_registry.hpp"
#include "pull.hpp"
#include "unpack.hpp"
#include "temp_dir.hpp"

using namespace raind::images;
using namespace raind::images::test;
using testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

RegistryOptions plain_http(const std::string& host) {
    RegistryOptions o;
    o.insecure = {host};
    o.retry_delay = std::chrono::milliseconds(10);
    return o;
}

void expect_empty_store(const TempDir& tmp) {
    EXPECT_TRUE(listing(tmp / "store/blobs/sha256").empty()) << testing::PrintToString(listing(tmp / "store/blobs"));
    EXPECT_TRUE(listing(tmp / "store/layers").empty());
}

} // namespace

TEST(FakeRegistry, PullsAndVerifies) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    std::vector<TransferEvent::Kind> kinds;
    auto info = pull_image(client, store, Reference::parse(reg.registry() + "/app"), Platform{},
                           [&](const TransferEvent& e) { kinds.push_back(e.kind); });
    EXPECT_EQ(info.id, img.config_digest);
    EXPECT_EQ(info.manifest, img.manifest_digest);
    EXPECT_EQ(info.names, std::vector<std::string>{reg.registry() + "/app:latest"});
    EXPECT_EQ(read_file_text(store.layer_path(img.diff_id) / "hello.txt"), "hello from the fake registry\n");
    EXPECT_EQ(kinds.front(), TransferEvent::Kind::resolved);
    EXPECT_EQ(kinds.back(), TransferEvent::Kind::done);
    EXPECT_NE(std::find(kinds.begin(), kinds.end(), TransferEvent::Kind::layer_unpacked), kinds.end());

    // Pulling by digest verifies the manifest against it.
    auto by_digest = pull_image(client, store, Reference::parse(reg.registry() + "/app@" + img.manifest_digest.str()));
    EXPECT_EQ(by_digest.id, img.config_digest);
}

TEST(FakeRegistry, DownloadsLayersInParallel) {
    FakeImage img = fake_image("x", 4);
    FakeRegistry reg(img);
    reg.slow_blobs = true;
    TempDir tmp;
    Store store(tmp / "store");
    auto opts = plain_http(reg.registry());
    opts.parallel_downloads = 3;
    RegistryClient client(opts);
    auto start = std::chrono::steady_clock::now();
    auto info = pull_image(client, store, Reference::parse(reg.registry() + "/app"));
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(info.layers.size(), 4u);
    // The config beside the first 3 layers, then the 4th: 2 rounds of 150 ms, not 5.
    EXPECT_EQ(reg.max_in_flight.load(), 4);
    EXPECT_LT(took, std::chrono::milliseconds(3 * 150));
    for (int i = 1; i < 4; ++i)
        EXPECT_TRUE(fs::exists(store.layer_path(info.layers[i].diff_id) / ("layer" + std::to_string(i) + ".txt")));
}

TEST(FakeRegistry, ConcurrentPullsOfOneImageShareTheStore) {
    FakeImage img = fake_image("same", 3);
    FakeRegistry reg(img);
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    std::vector<std::jthread> pulls;
    std::atomic<int> ok{0};
    for (const char* tag : {"latest", "latest", "latest", "latest"})
        pulls.emplace_back([&, tag] {
            pull_image(client, store, Reference::parse(reg.registry() + "/app:" + tag));
            ++ok;
        });
    pulls.clear();
    EXPECT_EQ(ok.load(), 4);
    EXPECT_EQ(store.images().size(), 1u);
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp / "store/layers"), fs::directory_iterator()), 3);
    // config + 3 layers + manifest, and no temp files.
    EXPECT_EQ(std::distance(fs::directory_iterator(tmp / "store/blobs/sha256"), fs::directory_iterator()), 5);
}

TEST(FakeRegistry, MirrorServesDockerHubNames) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    reg.manifests["library/app:latest"] = img.manifest;
    TempDir tmp;
    Store store(tmp / "store");
    auto opts = plain_http(reg.registry());
    opts.mirrors["docker.io"] = reg.registry();
    RegistryClient client(opts);
    auto info = pull_image(client, store, Reference::parse("app"));
    EXPECT_EQ(info.names, std::vector<std::string>{"docker.io/library/app:latest"});
    EXPECT_EQ(store.image("app").id, img.config_digest);
}

TEST(FakeRegistry, CorruptedLayerIsRejectedAndLeavesNothing) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    reg.blobs[img.layer_digest.str()][100] ^= 0x55; // same size, different bytes
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    try {
        pull_image(client, store, Reference::parse(reg.registry() + "/app"));
        FAIL() << "corrupted blob accepted";
    } catch (const DigestMismatch& e) {
        EXPECT_THAT(e.what(), HasSubstr("blob " + img.layer_digest.str() + ": digest mismatch"));
    }
    expect_empty_store(tmp);
    EXPECT_TRUE(store.images().empty());
}

TEST(FakeRegistry, CraftedLayersAreRejectedAndNothingIsWrittenOutside) {
    TempDir tmp;
    const std::vector<std::pair<std::string, std::function<void(TarBuilder&)>>> attacks = {
        {"../escape", [](TarBuilder& t) { t.file("../escape", "pwned"); }},
        {"x/escape", [](TarBuilder& t) { t.symlink("x", "../../../..").file("x/escape", "pwned"); }},
        {"y/etc/passwd", [](TarBuilder& t) { t.symlink("y", "/").file("y/etc/passwd", "pwned"); }},
    };
    std::string passwd = read_file_text("/etc/passwd");
    for (const auto& [entry, attack] : attacks) {
        FakeImage img = fake_image("x", 1, attack);
        FakeRegistry reg(img);
        Store store(tmp / "store");
        RegistryClient client(plain_http(reg.registry()));
        try {
            pull_image(client, store, Reference::parse(reg.registry() + "/app"));
            FAIL() << entry << " accepted";
        } catch (const UnsafeLayerEntry& e) {
            EXPECT_THAT(e.what(), HasSubstr("entry \"" + entry + "\""));
        }
        expect_empty_store(tmp);
        EXPECT_EQ(listing(tmp.path()), (std::vector<std::string>{"store", "store/blobs", "store/blobs/sha256",
                                                                  "store/images.db", "store/images.db-shm",
                                                                  "store/images.db-wal", "store/layers"}));
        EXPECT_FALSE(fs::exists(tmp.path().parent_path() / "escape"));
    }
    EXPECT_EQ(read_file_text("/etc/passwd"), passwd);
}

TEST(FakeRegistry, CorruptedConfigAndManifestAreRejected) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    reg.blobs[img.config_digest.str()] = img.config + " ";
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    EXPECT_THROW(pull_image(client, store, Reference::parse(reg.registry() + "/app")), DigestMismatch);
    expect_empty_store(tmp);

    reg.manifests["app:" + img.manifest_digest.str()] = img.manifest + "\n";
    try {
        client.get_manifest(Reference::parse(reg.registry() + "/app@" + img.manifest_digest.str()));
        FAIL();
    } catch (const DigestMismatch& e) {
        EXPECT_THAT(e.what(), HasSubstr("registry sent content hashing to"));
    }
}

TEST(FakeRegistry, BearerChallengeFetchesOneTokenAndReusesIt) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    reg.require_token = true;
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    pull_image(client, store, Reference::parse(reg.registry() + "/app"));
    // One token for repository:app:pull serves the manifest, the config and the layer.
    EXPECT_EQ(reg.token_requests.load(), 1);
    EXPECT_THROW(client.list_tags(Reference::parse(reg.registry() + "/app")), RegistryError); // fake has no tags API
}

TEST(FakeRegistry, RedirectsToAnotherHostWithoutCredentials) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    FakeRegistry cdn(img); // serves the blobs, records what it was sent
    reg.require_token = true;
    reg.redirect_blobs_to = cdn.http.origin();
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    auto info = pull_image(client, store, Reference::parse(reg.registry() + "/app"));
    EXPECT_EQ(info.id, img.config_digest);
    ASSERT_EQ(cdn.ranges_seen.size(), 2u); // config + layer came from the CDN
    for (const auto& a : cdn.authorizations_seen)
        EXPECT_EQ(a, "") << "Authorization leaked to the redirect target";
}

TEST(FakeRegistry, ResumesABrokenDownloadWithRange) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    reg.drop_blob_after = 16384 * 2; // the first blob request dies after 32 KiB
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    // Fetch the layer alone so the drop hits it.
    auto ref = Reference::parse(reg.registry() + "/app");
    auto writer = store.blob_writer(img.layer_digest, img.layer.size());
    client.fetch_blob(ref, img.layer_digest, img.layer.size(), writer);
    writer.commit();
    EXPECT_EQ(store.read_blob(img.layer_digest), img.layer);
    ASSERT_EQ(reg.ranges_seen.size(), 2u) << testing::PrintToString(reg.ranges_seen) << " size " << img.layer.size();
    EXPECT_EQ(reg.ranges_seen[0], "");
    EXPECT_EQ(reg.ranges_seen[1], "bytes=32768-");
}

TEST(FakeRegistry, ABrokenLayerDownloadResumesAndItsStreamingUnpackGoesOn) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    reg.drop_blob_digest = img.layer_digest.str();
    reg.drop_blob_after = 16384 * 2; // the layer's request dies after 32 KiB
    auto info = pull_image(client, store, Reference::parse(reg.registry() + "/app"));
    ASSERT_EQ(info.layers.size(), 1u);
    EXPECT_EQ(read_file_text(store.layer_path(img.diff_id) / "hello.txt"), "hello from the fake registry\n");
    EXPECT_EQ(fs::file_size(store.layer_path(img.diff_id) / "noise.bin"), 200000u);
    EXPECT_EQ(store.read_blob(img.layer_digest), img.layer);
    EXPECT_THAT(reg.ranges_seen, testing::Contains("bytes=32768-"));
    std::string hex(img.diff_id.hex());
    EXPECT_EQ(listing(tmp / "store/layers"), (std::vector<std::string>{hex, hex + "/hello.txt", hex + "/noise.bin"}));
}

TEST(FakeRegistry, RetriesAManifestTheRegistryCouldNotServe) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    reg.manifest_failures = 2;
    EXPECT_EQ(client.get_manifest(Reference::parse(reg.registry() + "/app")).digest, img.manifest_digest);
    reg.manifest_failures = 10; // more than the 3 retries
    try {
        client.get_manifest(Reference::parse(reg.registry() + "/app"));
        FAIL();
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.status(), 503);
    }
    EXPECT_EQ(reg.manifest_failures.load(), 6);
}

TEST(FakeRegistry, GivesUpAfterRetriesAndLeavesNothing) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    reg.blobs.erase(img.layer_digest.str());
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    try {
        pull_image(client, store, Reference::parse(reg.registry() + "/app"));
        FAIL();
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.status(), 404);
        EXPECT_THAT(e.what(), HasSubstr("/v2/app/blobs/" + img.layer_digest.str() + ": 404"));
    }
    expect_empty_store(tmp);
}

TEST(FakeRegistry, CancelledPullStopsAndLeavesNothing) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    std::stop_source stop;
    EXPECT_THROW(pull_image(client, store, Reference::parse(reg.registry() + "/app"), Platform{},
                            [&](const TransferEvent& e) {
                                if (e.kind == TransferEvent::Kind::blob_progress)
                                    stop.request_stop();
                            },
                            stop.get_token()),
                 Cancelled);
    expect_empty_store(tmp);
}

TEST(FakeRegistry, UnknownManifestAndUnreachableRegistryExplainThemselves) {
    FakeImage img = fake_image();
    FakeRegistry reg(img);
    TempDir tmp;
    Store store(tmp / "store");
    RegistryClient client(plain_http(reg.registry()));
    try {
        pull_image(client, store, Reference::parse(reg.registry() + "/app:nope"));
        FAIL();
    } catch (const RegistryError& e) {
        EXPECT_EQ(e.code(), "MANIFEST_UNKNOWN");
        EXPECT_THAT(e.what(), HasSubstr("GET http://" + reg.registry() + "/v2/app/manifests/nope: 404 MANIFEST_UNKNOWN: manifest unknown"));
    }
    int dead;
    {
        HttpServer gone;
        dead = gone.port();
    }
    RegistryClient nowhere(plain_http("127.0.0.1:" + std::to_string(dead)));
    try {
        nowhere.get_manifest(Reference::parse("127.0.0.1:" + std::to_string(dead) + "/app"));
        FAIL();
    } catch (const TransportError& e) {
        EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:" + std::to_string(dead)));
    }
}
