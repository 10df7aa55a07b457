#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "store.hpp"
#include "tar_builder.hpp"
#include "temp_dir.hpp"
#include "unpack.hpp"

namespace fs = std::filesystem;
using namespace raind::images;
using namespace raind::images::test;

namespace {

// Unpacks into <tmp>/outer/layer so a test can see whether anything landed beside it.
struct Sandbox {
    TempDir tmp;
    fs::path outer = tmp / "outer";
    fs::path layer = outer / "layer";
    Sandbox() { fs::create_directories(layer); }

    UnpackResult unpack(TarBuilder& t, const std::string& name = "layer.tar") {
        return unpack_layer(t.save(tmp / name), layer);
    }
    std::string error(TarBuilder& t) {
        try {
            unpack(t);
        } catch (const UnsafeLayerEntry& e) {
            return e.what();
        }
        return "(no UnsafeLayerEntry)";
    }
};

std::string slurp(const fs::path& p) { return read_file(p); }

} // namespace

TEST(Unpack, PlainGzipAndZstdGiveTheSameTreeAndDiffId) {
    auto build = [](Compression c) {
        TarBuilder t(c);
        t.dir("etc").file("etc/hostname", "box\n").file("bin/tool", "#!/bin/sh\n", 04755);
        t.symlink("bin/sh", "/bin/busybox").hardlink("bin/tool2", "bin/tool").dir("tmp", 01777);
        return t;
    };
    auto plain = build(Compression::none);
    Digest expected = sha256_of(plain.bytes());
    for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
        Sandbox s;
        auto t = build(c);
        if (c != Compression::none) {
            ASSERT_NE(t.bytes(), plain.bytes());
        }
        auto r = s.unpack(t);
        EXPECT_EQ(r.diff_id, expected) << "compression " << static_cast<int>(c);
        EXPECT_EQ(r.uncompressed_size, plain.bytes().size());
        EXPECT_EQ(slurp(s.layer / "etc/hostname"), "box\n");
        EXPECT_EQ(fs::read_symlink(s.layer / "bin/sh"), "/bin/busybox");
        struct stat a {}, b {};
        ASSERT_EQ(::stat((s.layer / "bin/tool").c_str(), &a), 0);
        ASSERT_EQ(::stat((s.layer / "bin/tool2").c_str(), &b), 0);
        EXPECT_EQ(a.st_ino, b.st_ino);
        EXPECT_EQ(a.st_mode & 07777, 04755u);
        ASSERT_EQ(::stat((s.layer / "tmp").c_str(), &a), 0);
        EXPECT_EQ(a.st_mode & 07777, 01777u);
        EXPECT_EQ(a.st_mtime, 1704067200); // the tar's time, not when it was unpacked
        ASSERT_EQ(::stat((s.layer / "etc").c_str(), &a), 0);
        EXPECT_EQ(a.st_mtime, 1704067200) << "directory time kept although a file was created in it";
        ASSERT_EQ(::stat((s.layer / "etc/hostname").c_str(), &a), 0);
        EXPECT_EQ(a.st_mtime, 1704067200);
        EXPECT_EQ(listing(s.outer), (std::vector<std::string>{"layer", "layer/bin", "layer/bin/sh", "layer/bin/tool",
                                                               "layer/bin/tool2", "layer/etc", "layer/etc/hostname",
                                                               "layer/tmp"}));
    }
}

TEST(Unpack, KeepsOwnershipAndXattrsWhenRoot) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to chown";
    Sandbox s;
    TarBuilder t;
    t.file("data", "x", 0640, 1234, 5678, {{"user.origin", "test"}, {"trusted.overlay.opaque", "y"}});
    s.unpack(t);
    struct stat st {};
    ASSERT_EQ(::stat((s.layer / "data").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    char buf[16] = {};
    ASSERT_EQ(::getxattr((s.layer / "data").c_str(), "user.origin", buf, sizeof buf), 4);
    EXPECT_STREQ(buf, "test");
    // A layer may not forge overlay's own attributes.
    EXPECT_LT(::getxattr((s.layer / "data").c_str(), "trusted.overlay.opaque", buf, sizeof buf), 0);
}

TEST(Unpack, RejectsDotDotAndNothingEscapes) {
    Sandbox s;
    TarBuilder t;
    t.file("ok", "fine").file("../escape", "pwned");
    EXPECT_EQ(s.error(t), "layer " + (s.tmp / "layer.tar").string() +
                              ": entry \"../escape\": path contains \"..\" and would leave the layer directory");
    EXPECT_FALSE(fs::exists(s.outer / "escape"));
    TarBuilder deep;
    deep.file("a/b/../../../escape2", "pwned");
    EXPECT_NE(s.error(deep).find("entry \"a/b/../../../escape2\": path contains \"..\""), std::string::npos);
    EXPECT_FALSE(fs::exists(s.outer / "escape2"));
}

TEST(Unpack, RejectsAbsolutePaths) {
    Sandbox s;
    TarBuilder t;
    std::string target = (s.outer / "abs").string(); // absolute, and outside the layer
    t.file(target, "pwned");
    EXPECT_NE(s.error(t).find("entry \"" + target + "\": path is absolute"), std::string::npos);
    EXPECT_FALSE(fs::exists(target));
}

TEST(Unpack, RejectsWritingThroughASymlinkToRoot) {
    Sandbox s;
    std::string before = slurp("/etc/passwd");
    TarBuilder t;
    t.symlink("x", "/").file("x/etc/passwd", "root::0:0::/:/bin/sh\n");
    EXPECT_EQ(s.error(t), "layer " + (s.tmp / "layer.tar").string() +
                              ": entry \"x/etc/passwd\": goes through symlink \"x\"");
    EXPECT_EQ(slurp("/etc/passwd"), before);
}

TEST(Unpack, RejectsWritingThroughARelativeSymlinkOutside) {
    Sandbox s;
    TarBuilder t;
    t.symlink("x", "../..").file("x/escape", "pwned");
    EXPECT_NE(s.error(t).find("entry \"x/escape\": goes through symlink \"x\""), std::string::npos);
    EXPECT_FALSE(fs::exists(s.tmp / "escape"));
    EXPECT_FALSE(fs::exists(s.outer / "escape"));
    // Also a symlinked directory deeper down, and a directory entry through it.
    TarBuilder t2;
    t2.dir("d").symlink("d/up", "../../..").dir("d/up/newdir");
    EXPECT_THAT(s.error(t2), testing::HasSubstr("entry \"d/up/newdir/\": goes through symlink \"d/up\""));
    EXPECT_FALSE(fs::exists(s.tmp / "newdir"));
}

TEST(Unpack, RejectsHardlinksOutsideAndNeverFollowsSymlinks) {
    Sandbox s;
    TarBuilder t;
    t.hardlink("passwd", "../../etc/passwd");
    EXPECT_NE(s.error(t).find("entry \"passwd\": hardlink target contains \"..\""), std::string::npos);
    TarBuilder abs;
    abs.hardlink("passwd", "/etc/passwd");
    EXPECT_NE(s.error(abs).find("entry \"passwd\": hardlink target is absolute"), std::string::npos);
    TarBuilder via;
    via.symlink("x", "/etc").hardlink("passwd", "x/passwd");
    EXPECT_NE(s.error(via).find("entry \"passwd\": goes through symlink \"x\""), std::string::npos);

    // A hardlink to a symlink that points outside links the symlink, never /etc/passwd itself.
    Sandbox s2;
    struct stat before {};
    ASSERT_EQ(::stat("/etc/passwd", &before), 0);
    TarBuilder sym;
    sym.symlink("evil", "/etc/passwd").hardlink("copy", "evil");
    s2.unpack(sym);
    EXPECT_TRUE(fs::is_symlink(s2.layer / "copy"));
    struct stat after {};
    ASSERT_EQ(::stat("/etc/passwd", &after), 0);
    EXPECT_EQ(after.st_nlink, before.st_nlink);
}

TEST(Unpack, WhiteoutsBecomeOverlayWhiteoutsAndOpaqueDirs) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "whiteouts are 0:0 device nodes and trusted.* xattrs: needs root";
    Sandbox s;
    TarBuilder t;
    t.dir("etc").file("etc/.wh.motd", "").dir("opt/base").file("opt/base/.wh..wh..opq", "").file("opt/base/c.txt", "c");
    t.file("etc/.wh..wh.plnk", "");
    s.unpack(t);
    struct stat st {};
    ASSERT_EQ(::lstat((s.layer / "etc/motd").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(st.st_rdev, makedev(0, 0));
    EXPECT_FALSE(fs::exists(s.layer / "etc/.wh.motd"));
    EXPECT_FALSE(fs::exists(s.layer / "etc/.wh..wh.plnk"));
    char v[4] = {};
    ASSERT_EQ(::getxattr((s.layer / "opt/base").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
    EXPECT_EQ(v[0], 'y');
    EXPECT_EQ(listing(s.layer / "opt/base"), std::vector<std::string>{"c.txt"});
    // A whiteout whose name would leave the directory is refused.
    Sandbox s2;
    TarBuilder bad;
    bad.file("etc/.wh...", "");
    EXPECT_NE(s2.error(bad).find("entry \"etc/.wh...\": invalid whiteout name"), std::string::npos);
}

TEST(Unpack, LaterEntriesReplaceEarlierOnes) {
    Sandbox s;
    TarBuilder t;
    t.file("a", "first").file("a", "second").dir("d").file("d/x", "x").file("d", "now a file").symlink("l", "a").file("l", "real");
    s.unpack(t);
    EXPECT_EQ(slurp(s.layer / "a"), "second");
    EXPECT_TRUE(fs::is_regular_file(s.layer / "d"));
    EXPECT_FALSE(fs::is_symlink(s.layer / "l"));
    EXPECT_EQ(slurp(s.layer / "a"), "second"); // writing "l" replaced the link, not its target
}

TEST(Unpack, DamagedArchiveAndCancellation) {
    Sandbox s;
    TarBuilder t(Compression::gzip);
    t.file("big", std::string(200000, 'z'));
    std::string bytes = t.bytes();
    bytes.resize(bytes.size() / 2);
    std::ofstream(s.tmp / "cut.tar.gz", std::ios::binary) << bytes;
    EXPECT_THROW(unpack_layer(s.tmp / "cut.tar.gz", s.layer), raind::Error);

    Sandbox s2;
    std::stop_source stop;
    stop.request_stop();
    TarBuilder t2;
    t2.file("f", "x");
    EXPECT_THROW(unpack_layer(t2.save(s2.tmp / "l.tar"), s2.layer, stop.get_token()), Cancelled);
}

TEST(Unpack, AReplacedDirectoryIsNotWrittenIntoAfterwards) {
    // The unpacker keeps the last entry's directory open; once a later entry replaced that
    // directory, entries below its name must go where the name now points, never into the
    // removed directory.
    Sandbox s;
    TarBuilder t;
    t.dir("d").file("d/x", "x").file("d", "now a file").file("d/y", "y");
    std::string error = s.error(t);
    EXPECT_NE(error.find("entry \"d/y\": goes through \"d\", which is not a directory"), std::string::npos) << error;

    Sandbox s2;
    TarBuilder t2;
    t2.dir("d").file("d/x", "x").file("d", "file").dir("d").file("d/y", "y");
    s2.unpack(t2);
    EXPECT_EQ(listing(s2.layer), (std::vector<std::string>{"d", "d/y"}));
}

TEST(Unpack, OwnersHoldInSetGroupIdDirectories) {
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root to chown";
    // New entries in a set-group-id directory take its group; an entry that says 0:0 must
    // still end up 0:0, while one that says the directory's group needs no chown.
    Sandbox s;
    TarBuilder t;
    t.dir("g", 02775, 0, 4321).symlink("g/link", "target").file("g/f", "x", 0644, 0, 0).file("g/h", "x", 0644, 0, 4321);
    s.unpack(t);
    struct stat st {};
    ASSERT_EQ(::lstat((s.layer / "g").c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, 4321u);
    EXPECT_EQ(st.st_mode & 07777, 02775u);
    for (const char* name : {"g/link", "g/f"}) {
        ASSERT_EQ(::lstat((s.layer / name).c_str(), &st), 0);
        EXPECT_EQ(st.st_gid, 0u) << name;
    }
    ASSERT_EQ(::lstat((s.layer / "g/h").c_str(), &st), 0);
    EXPECT_EQ(st.st_gid, 4321u);
}
