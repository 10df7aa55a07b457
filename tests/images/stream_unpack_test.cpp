// A layer unpacked while its bytes arrive: the same tree and diff_id as from a file, whatever
// pieces the bytes come in; and when the bytes stop, break or lie, nothing is left.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <thread>

#include "byte_pipe.hpp"
#include "parked_thread.hpp"
#include "store.hpp"
#include "tar_builder.hpp"
#include "temp_dir.hpp"
#include "unpack.hpp"

namespace fs = std::filesystem;
using namespace raind::images;
using namespace raind::images::test;
using testing::HasSubstr;

namespace {

TarBuilder sample(Compression c) {
    std::string noise(300000, '\0');
    uint32_t x = 7;
    for (auto& ch : noise)
        ch = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
    TarBuilder t(c);
    t.dir("etc").file("etc/hostname", "box\n").file("bin/busybox", noise, 0755);
    for (int i = 0; i < 50; ++i)
        t.symlink("bin/tool" + std::to_string(i), "/bin/busybox");
    return t;
}

// Hands `bytes` out `piece` bytes at a time, then throws `error` (if set) instead of ending.
struct Pieces {
    Pieces(std::string b, size_t p, size_t stop = std::string::npos, std::string e = {})
        : bytes(std::move(b)), piece(p), stop_after(stop), error(std::move(e)) {}
    std::string bytes;
    size_t piece;
    size_t stop_after;
    std::string error;
    size_t offset = 0;
    size_t operator()(const void** data) {
        size_t end = std::min(bytes.size(), stop_after);
        if (offset >= end) {
            if (!error.empty())
                throw raind::Error(error);
            return 0;
        }
        size_t n = std::min(piece, end - offset);
        *data = bytes.data() + offset;
        offset += n;
        return n;
    }
};

// gzip of `data` as one member (what `gzip` writes).
std::string gzip(const std::string& data) {
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, data.size()) + 64, '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    z.avail_in = static_cast<uInt>(data.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

Digest diff_id_of(TarBuilder& t) {
    return sha256_of(t.bytes());
}

} // namespace

TEST(StreamUnpack, AnyPiecesGiveTheTreeAndDiffIdOfTheFile) {
    auto plain = sample(Compression::none);
    for (auto c : {Compression::none, Compression::gzip, Compression::zstd}) {
        auto t = sample(c);
        for (size_t piece : {size_t{1} << 20, size_t{4096}, size_t{7}}) {
            TempDir tmp;
            fs::create_directories(tmp / "file");
            fs::create_directories(tmp / "stream");
            auto from_file = unpack_layer(t.save(tmp / "layer"), tmp / "file");
            Pieces source{t.bytes(), piece};
            auto from_stream = unpack_layer(std::ref(source), "sha256:test", tmp / "stream");
            EXPECT_EQ(from_stream.diff_id, diff_id_of(plain)) << piece;
            EXPECT_EQ(from_stream.diff_id, from_file.diff_id);
            EXPECT_EQ(from_stream.uncompressed_size, plain.bytes().size());
            EXPECT_EQ(listing(tmp / "stream"), listing(tmp / "file"));
            EXPECT_EQ(fs::file_size(tmp / "stream/bin/busybox"), 300000u);
            EXPECT_EQ(fs::read_symlink(tmp / "stream/bin/tool49"), "/bin/busybox");
        }
    }
}

TEST(StreamUnpack, ConcatenatedGzipMembersAreOneStream) {
    auto plain = sample(Compression::none);
    const std::string& tar = plain.bytes();
    std::string two = gzip(tar.substr(0, 100000)) + gzip(tar.substr(100000));
    TempDir tmp;
    Pieces source{two, 5000};
    auto r = unpack_layer(std::ref(source), "sha256:two", tmp.path());
    EXPECT_EQ(r.diff_id, diff_id_of(plain));
    EXPECT_EQ(fs::file_size(tmp / "bin/busybox"), 300000u);
}

TEST(StreamUnpack, BrokenTruncatedOrCorruptedBytesLeaveNoLayer) {
    auto t = sample(Compression::gzip);
    auto plain = sample(Compression::none);
    Digest diff_id = diff_id_of(plain);
    struct Case {
        std::string what;
        Pieces source;
        std::string message;
    };
    std::string corrupted = t.bytes();
    corrupted[corrupted.size() / 2] ^= 0x55;
    std::vector<Case> cases = {
        {"download failed", Pieces{t.bytes(), 4096, t.bytes().size() / 2, "connection reset by the registry"},
         "connection reset by the registry"},
        {"truncated", Pieces{t.bytes(), 4096, t.bytes().size() / 2}, "damaged archive"},
        {"corrupted", Pieces{corrupted, 4096}, "layer sha256:l"},
    };
    for (auto& c : cases) {
        TempDir tmp;
        Store store(tmp / "store");
        try {
            store.unpack_layer(std::ref(c.source), "sha256:l", [&] { return diff_id; });
            ADD_FAILURE() << c.what << ": accepted";
        } catch (const raind::Error& e) {
            EXPECT_THAT(e.what(), HasSubstr(c.message)) << c.what;
        }
        EXPECT_FALSE(store.has_layer(diff_id)) << c.what;
        EXPECT_TRUE(listing(tmp / "store/layers").empty()) << c.what << ": " << testing::PrintToString(listing(tmp / "store/layers"));
    }
    // The same bytes, whole, make the layer.
    TempDir tmp;
    Store store(tmp / "store");
    Pieces whole{t.bytes(), 4096};
    EXPECT_TRUE(store.unpack_layer(std::ref(whole), "sha256:l", [&] { return diff_id; }));
    EXPECT_TRUE(store.has_layer(diff_id));
    // Once more (another pull was first): the same answer, nothing left over.
    Pieces again{t.bytes(), 4096};
    EXPECT_FALSE(store.unpack_layer(std::ref(again), "sha256:l", [&] { return diff_id; }));
    EXPECT_EQ(listing(tmp / "store/layers").size(), listing(store.layer_path(diff_id)).size() + 1);

    // The diff_id the config gives (asked for at the end) decides.
    TempDir tmp2;
    Store store2(tmp2 / "store");
    Pieces other{t.bytes(), 4096};
    EXPECT_THROW(store2.unpack_layer(std::ref(other), "sha256:l", [&] { return sha256_of("not it"); }), DigestMismatch);
    EXPECT_TRUE(listing(tmp2 / "store/layers").empty());
}

TEST(StreamUnpack, TheLayerWaitsForTheEndOfTheSource) {
    // The tar ends long before the source does (as when the blob is still being verified): the
    // layer must not appear until the source ended.
    auto t = sample(Compression::gzip);
    auto plain = sample(Compression::none);
    TempDir tmp;
    Store store(tmp / "store");
    BytePipe pipe;
    std::jthread unpacker([&] {
        store.unpack_layer([&](const void** data) { return pipe.read(data); }, "sha256:l",
                           [&] { return diff_id_of(plain); });
    });
    pipe.write(t.bytes().data(), t.bytes().size());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_FALSE(store.has_layer(diff_id_of(plain)));
    pipe.close();
    unpacker.join();
    EXPECT_TRUE(store.has_layer(diff_id_of(plain)));
}

TEST(BytePipe, FailureReachesTheReaderAndAGoneReaderReleasesTheWriter) {
    BytePipe ends;
    ends.write("01234", 5);
    ends.write("56789", 5);
    ends.close();
    const void* data = nullptr;
    ASSERT_EQ(ends.read(&data), 10u); // small writes come out as one piece
    EXPECT_EQ(std::string(static_cast<const char*>(data), 10), "0123456789");
    EXPECT_EQ(ends.read(&data), 0u);

    BytePipe pipe(1024);
    std::jthread failer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        pipe.fail("gone");
    });
    try {
        pipe.read(&data); // waits, then learns the bytes will never come
        ADD_FAILURE() << "read returned";
    } catch (const raind::Error& e) {
        EXPECT_STREQ(e.what(), "gone");
    }

    BytePipe small(16);
    std::string big(64, 'x');
    small.write(big.data(), big.size()); // fills it
    std::jthread writer([&] { small.write(big.data(), big.size()); }); // waits for room
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    small.close_read();
    writer.join(); // released, the bytes dropped
}

TEST(BlobWriter, TeeSeesEveryByteOnceAcrossARestart) {
    TempDir tmp;
    Store store(tmp / "store");
    std::string blob = "abcdefghijklmnopqrstuvwxyz";
    auto writer = store.blob_writer(sha256_of(blob), blob.size());
    std::string teed;
    writer.set_tee([&](const char* data, size_t n) { teed.append(data, n); });
    writer.write(blob.data(), 10);
    writer.restart(); // the server started over
    writer.write(blob.data(), 4);
    writer.write(blob.data() + 4, 22);
    writer.commit();
    EXPECT_EQ(teed, blob);
    EXPECT_EQ(store.read_blob(sha256_of(blob)), blob);
}

TEST(ParkedTask, ReusesAParkedThreadRethrowsAndWaitsWhenDestroyed) {
    std::thread::id first;
    ParkedTask([&] { first = std::this_thread::get_id(); }).join();
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // it parks
    std::thread::id second;
    ParkedTask([&] { second = std::this_thread::get_id(); }).join();
    EXPECT_EQ(second, first);

    ParkedTask failing([] { throw raind::Error("no luck"); });
    EXPECT_THROW(failing.join(), raind::Error);

    bool done = false;
    {
        ParkedTask slow([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(30));
            done = true;
        });
    } // waits, as a std::jthread would
    EXPECT_TRUE(done);
}
