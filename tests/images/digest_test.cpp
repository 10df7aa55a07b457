#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "digest.hpp"

using raind::images::Digest;
using raind::images::InvalidDigest;
using raind::images::Sha256;

TEST(Digest, KnownVectors) {
    EXPECT_EQ(raind::images::sha256_of("").str(),
              "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(raind::images::sha256_of("abc").str(),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, StreamingEqualsOneShotAndCountsBytes) {
    std::string data(1 << 20, 'x');
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 131 % 251);
    Sha256 h;
    for (size_t off = 0; off < data.size(); off += 7777)
        h.update(std::string_view(data).substr(off, 7777));
    EXPECT_EQ(h.bytes(), data.size());
    EXPECT_EQ(h.finish(), raind::images::sha256_of(data));
    // finish() resets: the hasher starts over.
    h.update("abc");
    EXPECT_EQ(h.finish().str(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Digest, OfFileMatchesContentAndNamesMissingFile) {
    auto path = std::filesystem::temp_directory_path() / ("raind-digest-" + std::to_string(::getpid()));
    std::ofstream(path) << "abc";
    EXPECT_EQ(raind::images::sha256_of_file(path).str(),
              "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::filesystem::remove(path);
    try {
        raind::images::sha256_of_file(path);
        FAIL();
    } catch (const raind::SystemError& e) {
        EXPECT_EQ(std::string(e.what()), "open " + path.string() + ": No such file or directory");
    }
}

TEST(Digest, ParseValidatesAndExplains) {
    std::string hex(64, 'a');
    EXPECT_EQ(Digest::parse("sha256:" + hex).hex(), hex);
    EXPECT_TRUE(Digest::valid("sha256:" + hex));
    EXPECT_FALSE(Digest::valid("sha256:" + std::string(64, 'A')));
    EXPECT_FALSE(Digest::valid("sha256:../../etc/passwd"));
    auto err = [](std::string s) {
        try {
            Digest::parse(s);
        } catch (const InvalidDigest& e) {
            return std::string(e.what());
        }
        return std::string("(parsed)");
    };
    EXPECT_EQ(err("abc"), "invalid digest \"abc\": expected sha256:<64 hex characters>");
    EXPECT_EQ(err("md5:abc"), "invalid digest \"md5:abc\": unsupported algorithm \"md5\" (only sha256)");
    EXPECT_EQ(err("sha256:abc"), "invalid digest \"sha256:abc\": expected 64 hex characters, got 3");
    EXPECT_EQ(err("sha256:" + std::string(64, 'G')), "invalid digest \"sha256:" + std::string(64, 'G') +
                                                         "\": not lowercase hex");
}
