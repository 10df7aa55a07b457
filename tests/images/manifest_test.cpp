#include <gtest/gtest.h>

#include "manifest.hpp"

using namespace raind::images;

namespace {
std::string index_json(const std::string& mt) {
    std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b'),
                c = "sha256:" + std::string(64, 'c');
    return R"({"schemaVersion":2,"mediaType":")" + mt + R"(","manifests":[
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + a + R"(","size":10,
       "platform":{"os":"linux","architecture":"amd64"}},
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + b + R"(","size":11,
       "platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
      {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + c + R"(","size":12,
       "platform":{"os":"linux","architecture":"arm","variant":"v7"}}]})";
}
} // namespace

TEST(Platform, ParseAndNames) {
    EXPECT_EQ(Platform::parse("linux/arm64").str(), "linux/arm64");
    EXPECT_EQ(Platform::parse("linux/arm64/v8").variant, "v8");
    EXPECT_EQ(Platform::parse("arm64").str(), "linux/arm64");
    EXPECT_EQ(Platform::parse("linux/x86_64").architecture, "amd64");
    EXPECT_EQ(Platform::parse("linux/aarch64").architecture, "arm64");
    EXPECT_THROW(Platform::parse("linux//v8"), raind::Error);
    EXPECT_THROW(Platform::parse("a/b/c/d"), raind::Error);
    EXPECT_EQ(Platform{}.str(), "linux/amd64");
}

TEST(Platform, SelectFromIndexByOsArchVariant) {
    auto idx = parse_index(index_json(std::string(media_type::oci_index)), media_type::oci_index);
    EXPECT_EQ(select_platform(idx, Platform{}).digest.str(), "sha256:" + std::string(64, 'a'));
    EXPECT_EQ(select_platform(idx, Platform::parse("linux/arm64")).digest.str(), "sha256:" + std::string(64, 'b'));
    EXPECT_EQ(select_platform(idx, Platform::parse("linux/arm64/v8")).digest.str(), "sha256:" + std::string(64, 'b'));
    EXPECT_EQ(select_platform(idx, Platform::parse("linux/arm/v7")).digest.str(), "sha256:" + std::string(64, 'c'));
    try {
        select_platform(idx, Platform::parse("linux/s390x"));
        FAIL();
    } catch (const raind::Error& e) {
        EXPECT_STREQ(e.what(), "no image for platform linux/s390x in the manifest list (available: linux/amd64, "
                               "linux/arm64/v8, linux/arm/v7)");
    }
    EXPECT_THROW(select_platform(idx, Platform::parse("linux/arm/v6")), raind::Error);
}

TEST(Manifest, DetectsTypesIncludingUmociStyleWithoutMediaType) {
    std::string cfg = "sha256:" + std::string(64, 'd');
    std::string oci = R"({"schemaVersion":2,"config":{"digest":")" + cfg + R"(","size":5},"layers":[]})";
    EXPECT_EQ(detect_media_type("application/octet-stream", oci), media_type::oci_manifest);
    EXPECT_EQ(detect_media_type("application/vnd.docker.distribution.manifest.v2+json; charset=utf-8", oci),
              media_type::docker_manifest);
    EXPECT_EQ(detect_media_type("", index_json("")), media_type::oci_index);
    try {
        detect_media_type("application/vnd.docker.distribution.manifest.v1+prettyjws", "{}");
        FAIL();
    } catch (const raind::Error& e) {
        EXPECT_NE(std::string(e.what()).find("schema 1"), std::string::npos);
    }
    auto m = parse_manifest(oci, media_type::oci_manifest);
    EXPECT_EQ(m.config.digest.str(), cfg);
    EXPECT_THROW(parse_manifest(R"({"config":{"digest":"sha256:bad","size":1},"layers":[]})", media_type::oci_manifest),
                 raind::Error);
}

TEST(Manifest, ConfigDiffIds) {
    std::string d = "sha256:" + std::string(64, 'e');
    EXPECT_EQ(config_diff_ids(R"({"rootfs":{"type":"layers","diff_ids":[")" + d + R"("]}})").at(0).str(), d);
    EXPECT_THROW(config_diff_ids(R"({"rootfs":{}})"), raind::Error);
}
