#include "store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "fd.hpp"
#include "database.hpp"
#include "unpack.hpp"

namespace fs = std::filesystem;

namespace raind::images {

using db::Database;
using db::Statement;
using db::Transaction;

namespace {

constexpr std::string_view schema = R"(
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY, manifest TEXT NOT NULL, manifest_media_type TEXT NOT NULL,
    index_digest TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS image_layers (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, position INTEGER NOT NULL,
    blob TEXT NOT NULL, diff_id TEXT NOT NULL, media_type TEXT NOT NULL, size INTEGER NOT NULL,
    PRIMARY KEY (image_id, position));
CREATE INDEX IF NOT EXISTS image_layers_diff_id ON image_layers(diff_id);
CREATE TABLE IF NOT EXISTS image_blobs (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE, digest TEXT NOT NULL,
    PRIMARY KEY (image_id, digest));
CREATE INDEX IF NOT EXISTS image_blobs_digest ON image_blobs(digest);
CREATE TABLE IF NOT EXISTS names (
    name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    manifest TEXT NOT NULL, manifest_media_type TEXT NOT NULL);
)";

void make_dirs(const fs::path& p) {
    std::error_code ec;
    fs::create_directories(p, ec);
    if (ec)
        throw SystemError("create " + p.string(), ec.value());
}

// Leftovers of a crash in the middle of a download or an unpack are never valid content.
void remove_temporaries(const fs::path& dir) {
    std::error_code ec;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
        if (it->path().filename().string().rfind(".tmp-", 0) == 0)
            fs::remove_all(it->path(), ec);
}

void write_all(int fd, const void* data, size_t size, const fs::path& what) {
    auto p = static_cast<const char*>(data);
    while (size) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("write " + what.string());
        }
        p += n;
        size -= static_cast<size_t>(n);
    }
}

} // namespace

// ---- BlobWriter ----

struct BlobWriter::State {
    explicit State(Digest d) : expected(std::move(d)) {}
    Digest expected;
    std::optional<uint64_t> expected_size;
    fs::path final_path;
    fs::path temp_path;
    UniqueFd fd;
    Sha256 hash;
    uint64_t written = 0;
    std::function<void(const char*, size_t)> tee;
    std::string pending; // written to the file in large pieces: blobs arrive in small reads
    void flush() {
        write_all(fd.get(), pending.data(), pending.size(), temp_path);
        pending.clear();
    }
    uint64_t teed = 0; // bytes the tee has seen (more than `written` after a restart)
    bool committed = false;
};

BlobWriter::BlobWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
BlobWriter::BlobWriter(BlobWriter&&) noexcept = default;
BlobWriter::~BlobWriter() {
    if (state_ && !state_->committed) {
        std::error_code ec;
        fs::remove(state_->temp_path, ec);
    }
}

void BlobWriter::write(const void* data, size_t size) {
    auto& s = *state_;
    if (s.expected_size && s.written + size > *s.expected_size)
        throw DigestMismatch("blob " + s.expected.str() + ": more data than the " + std::to_string(*s.expected_size) +
                             " bytes the manifest lists");
    s.pending.append(static_cast<const char*>(data), size);
    if (s.pending.size() >= 256 * 1024)
        s.flush();
    s.hash.update(data, size);
    if (s.tee && s.written + size > s.teed) {
        uint64_t skip = s.teed > s.written ? s.teed - s.written : 0;
        s.tee(static_cast<const char*>(data) + skip, size - skip);
        s.teed = s.written + size;
    }
    s.written += size;
}

void BlobWriter::set_tee(std::function<void(const char*, size_t)> tee) { state_->tee = std::move(tee); }

uint64_t BlobWriter::written() const noexcept { return state_->written; }

void BlobWriter::restart() {
    auto& s = *state_;
    s.pending.clear();
    if (::ftruncate(s.fd.get(), 0) < 0 || ::lseek(s.fd.get(), 0, SEEK_SET) < 0)
        throw_errno("truncate " + s.temp_path.string());
    s.hash = Sha256();
    s.written = 0;
}

void BlobWriter::commit() {
    auto& s = *state_;
    Digest got = s.hash.finish();
    if (got != s.expected) {
        std::error_code ec;
        fs::remove(s.temp_path, ec);
        s.committed = true; // nothing left to clean
        throw DigestMismatch("blob " + s.expected.str() + ": digest mismatch: received content hashes to " +
                             got.str() + " (" + std::to_string(s.written) + " bytes); discarded");
    }
    if (s.expected_size && s.written != *s.expected_size) {
        std::error_code ec;
        fs::remove(s.temp_path, ec);
        s.committed = true;
        throw DigestMismatch("blob " + s.expected.str() + ": got " + std::to_string(s.written) +
                             " bytes, the manifest lists " + std::to_string(*s.expected_size) + "; discarded");
    }
    s.flush();
    if (::fsync(s.fd.get()) < 0)
        throw_errno("fsync " + s.temp_path.string());
    if (::rename(s.temp_path.c_str(), s.final_path.c_str()) < 0)
        throw_errno("rename " + s.temp_path.string() + " to " + s.final_path.string());
    s.committed = true;
}

// ---- Lease ----

Lease::Lease(Lease&& o) noexcept : store_(std::exchange(o.store_, nullptr)), keys_(std::move(o.keys_)) {}
Lease::~Lease() {
    if (!store_)
        return;
    std::lock_guard lock(store_->mutex_);
    for (const auto& k : keys_) {
        auto it = std::find(store_->leases_.begin(), store_->leases_.end(), k);
        if (it != store_->leases_.end())
            store_->leases_.erase(it);
    }
}

// ---- Store ----

Store::Store(fs::path root) : root_(std::move(root)) {
    make_dirs(root_ / "blobs" / "sha256");
    make_dirs(root_ / "layers");
    remove_temporaries(root_ / "blobs" / "sha256");
    remove_temporaries(root_ / "layers");
    db_ = std::make_unique<Database>((root_ / "images.db").string());
    db_->migrate({schema});
}

Store::~Store() = default;

fs::path Store::blob_path(const Digest& d) const { return root_ / "blobs" / "sha256" / std::string(d.hex()); }
bool Store::has_blob(const Digest& d) const { return ::access(blob_path(d).c_str(), F_OK) == 0; }

std::string Store::read_blob(const Digest& d) const {
    UniqueFd fd(::open(blob_path(d).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("read blob " + d.str());
    std::string out;
    char buf[65536];
    while (true) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_errno("read blob " + d.str());
        }
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

BlobWriter Store::blob_writer(const Digest& expected, std::optional<uint64_t> expected_size) {
    auto s = std::make_unique<BlobWriter::State>(expected);
    s->expected_size = expected_size;
    s->final_path = blob_path(expected);
    std::string tmpl = (root_ / "blobs" / "sha256" / (".tmp-" + std::string(expected.hex()) + "-XXXXXX")).string();
    int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
    if (fd < 0)
        throw_errno("create temp file for blob " + expected.str());
    s->fd.reset(fd);
    s->temp_path = tmpl;
    ::fchmod(fd, 0644);
    return BlobWriter(std::move(s));
}

Digest Store::write_blob(std::string_view data, const std::optional<Digest>& expected) {
    Digest d = expected ? *expected : sha256_of(data);
    if (has_blob(d) && !expected)
        return d;
    auto w = blob_writer(d, data.size());
    w.write(data.data(), data.size());
    w.commit();
    return d;
}

fs::path Store::layer_path(const Digest& diff_id) const { return root_ / "layers" / std::string(diff_id.hex()); }
bool Store::has_layer(const Digest& diff_id) const { return ::access(layer_path(diff_id).c_str(), F_OK) == 0; }

template <typename Unpack>
bool Store::unpack_into_place(const std::function<Digest()>& diff_id, const std::string& name, Unpack unpack) {
    std::string tmpl = (root_ / "layers" / ".tmp-layer-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        throw_errno("create temp dir for layer " + name);
    fs::path tmp = tmpl;
    try {
        ::chmod(tmp.c_str(), 0755);
        UnpackResult r = unpack(tmp);
        Digest expected = diff_id();
        if (r.diff_id != expected)
            throw DigestMismatch("layer " + name + ": uncompressed content hashes to " + r.diff_id.str() +
                                 " but the image config lists diff_id " + expected.str() + "; discarded");
        if (::rename(tmp.c_str(), layer_path(expected).c_str()) < 0) {
            // Another pull unpacked the same layer first: theirs is identical.
            if (errno != EEXIST && errno != ENOTEMPTY)
                throw_errno("rename " + tmp.string() + " to " + layer_path(expected).string());
            std::error_code ec;
            fs::remove_all(tmp, ec);
            return false;
        }
        return true;
    } catch (...) {
        std::error_code ec;
        fs::remove_all(tmp, ec);
        throw;
    }
}

void Store::unpack_layer(const Digest& blob, const Digest& diff_id, std::stop_token stop) {
    if (has_layer(diff_id))
        return;
    unpack_into_place([&] { return diff_id; }, blob.str(),
                      [&](const fs::path& dir) { return raind::images::unpack_layer(blob_path(blob), dir, stop); });
}

bool Store::unpack_layer(const std::function<size_t(const void**)>& source, const std::string& name,
                         const std::function<Digest()>& diff_id, std::stop_token stop) {
    return unpack_into_place(diff_id, name,
                             [&](const fs::path& dir) { return raind::images::unpack_layer(source, name, dir, stop); });
}

Lease Store::lease(const std::vector<Digest>& blobs, const std::vector<Digest>& layers) {
    std::vector<std::string> keys;
    for (const auto& b : blobs)
        keys.push_back("blob:" + b.str());
    for (const auto& l : layers)
        keys.push_back("layer:" + l.str());
    std::lock_guard lock(mutex_);
    leases_.insert(leases_.end(), keys.begin(), keys.end());
    return Lease(this, std::move(keys));
}

void Store::discard(const std::vector<Digest>& blobs, const std::vector<Digest>& layers) {
    std::lock_guard lock(mutex_);
    std::error_code ec;
    for (const auto& d : blobs)
        if (!leased_locked("blob:" + d.str()) &&
            !db_->prepare("SELECT 1 FROM image_blobs WHERE digest = ?").bind(1, d.str()).step())
            fs::remove(blob_path(d), ec);
    for (const auto& d : layers)
        if (!leased_locked("layer:" + d.str()) &&
            !db_->prepare("SELECT 1 FROM image_layers WHERE diff_id = ?").bind(1, d.str()).step())
            fs::remove_all(layer_path(d), ec);
}

bool Store::leased_locked(const std::string& key) const {
    return std::find(leases_.begin(), leases_.end(), key) != leases_.end();
}

ImageInfo Store::add_image(const ImageInfo& image, const std::vector<Reference>& names,
                           const std::vector<Digest>& extra_blobs) {
    std::vector<Digest> blobs = {image.id, image.manifest};
    if (image.index)
        blobs.push_back(*image.index);
    for (const auto& l : image.layers) {
        blobs.push_back(l.blob);
        if (!has_layer(l.diff_id))
            throw Error("image " + image.id.str() + ": layer " + l.diff_id.str() + " is not unpacked");
    }
    blobs.insert(blobs.end(), extra_blobs.begin(), extra_blobs.end());
    for (const auto& b : blobs)
        if (!has_blob(b))
            throw Error("image " + image.id.str() + ": blob " + b.str() + " is not in the store");

    std::lock_guard lock(mutex_);
    Transaction tx(*db_);
    const std::string id = image.id.str();
    bool exists = db_->prepare("SELECT 1 FROM images WHERE id = ?").bind(1, id).step();
    if (!exists) {
        uint64_t size = read_blob(image.id).size();
        for (const auto& l : image.layers)
            size += l.size;
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        db_->prepare("INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)")
            .bind(1, id)
            .bind(2, image.manifest.str())
            .bind(3, image.manifest_media_type)
            .bind(4, image.index ? image.index->str() : std::string())
            .bind(5, static_cast<int64_t>(now.count()))
            .bind(6, static_cast<int64_t>(size))
            .run();
        int64_t pos = 0;
        for (const auto& l : image.layers)
            db_->prepare("INSERT INTO image_layers VALUES (?, ?, ?, ?, ?, ?)")
                .bind(1, id)
                .bind(2, pos++)
                .bind(3, l.blob.str())
                .bind(4, l.diff_id.str())
                .bind(5, l.media_type)
                .bind(6, static_cast<int64_t>(l.size))
                .run();
    }
    for (const auto& b : blobs)
        db_->prepare("INSERT OR IGNORE INTO image_blobs VALUES (?, ?)").bind(1, id).bind(2, b.str()).run();
    // A name moves to the new image; an image left without names stays (docker's "<none>" image).
    // Each name keeps the manifest it was pulled with: busybox:latest (Docker) and busybox:oci
    // (OCI) share one config, so one image, with two manifests.
    for (const auto& n : names)
        db_->prepare("INSERT OR REPLACE INTO names VALUES (?, ?, ?, ?)")
            .bind(1, n.str())
            .bind(2, id)
            .bind(3, image.manifest.str())
            .bind(4, image.manifest_media_type)
            .run();
    tx.commit();
    return *load_image(id, names.empty() ? std::nullopt : std::optional<std::string>(names.front().str()));
}

std::optional<ImageInfo> Store::load_image(const std::string& id, const std::optional<std::string>& name) const {
    auto q = db_->prepare("SELECT manifest, manifest_media_type, index_digest, created, size FROM images WHERE id = ?");
    q.bind(1, id);
    if (!q.step())
        return std::nullopt;
    std::optional<Digest> index;
    if (!q.text(2).empty())
        index = Digest::parse(q.text(2));
    ImageInfo info{Digest::parse(id), Digest::parse(q.text(0)), q.text(1), index, {}, {}, q.integer(3),
                   static_cast<uint64_t>(q.integer(4))};
    if (name) {
        auto m = db_->prepare("SELECT manifest, manifest_media_type FROM names WHERE name = ?");
        m.bind(1, *name);
        if (m.step()) {
            info.manifest = Digest::parse(m.text(0));
            info.manifest_media_type = m.text(1);
        }
    }
    auto l = db_->prepare("SELECT blob, diff_id, media_type, size FROM image_layers WHERE image_id = ? ORDER BY position");
    l.bind(1, id);
    while (l.step())
        info.layers.push_back({Digest::parse(l.text(0)), Digest::parse(l.text(1)), l.text(2),
                               static_cast<uint64_t>(l.integer(3))});
    auto n = db_->prepare("SELECT name FROM names WHERE image_id = ? ORDER BY name");
    n.bind(1, id);
    while (n.step())
        info.names.push_back(n.text(0));
    return info;
}

std::optional<std::string> Store::resolve_id(std::string_view name_or_id, std::optional<std::string>* name) const {
    try {
        auto ref = Reference::parse(name_or_id);
        auto q = db_->prepare("SELECT image_id FROM names WHERE name = ?");
        q.bind(1, ref.str());
        if (q.step()) {
            if (name)
                *name = ref.str();
            return q.text(0);
        }
    } catch (const InvalidReference&) {
        // not a name; maybe an id
    }
    std::string_view hex = name_or_id;
    if (hex.rfind("sha256:", 0) == 0)
        hex.remove_prefix(7);
    if (hex.empty() || hex.size() > 64 || hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return std::nullopt;
    auto q = db_->prepare("SELECT id FROM images WHERE substr(id, 8, ?) = ?");
    q.bind(1, static_cast<int64_t>(hex.size())).bind(2, hex);
    std::optional<std::string> found;
    while (q.step()) {
        if (found)
            throw Error("image id prefix \"" + std::string(name_or_id) + "\" is ambiguous");
        found = q.text(0);
    }
    return found;
}

std::optional<ImageInfo> Store::find_image(std::string_view name_or_id) const {
    std::lock_guard lock(mutex_);
    std::optional<std::string> name;
    auto id = resolve_id(name_or_id, &name);
    return id ? load_image(*id, name) : std::nullopt;
}

ImageInfo Store::image(std::string_view name_or_id) const {
    auto i = find_image(name_or_id);
    if (!i)
        throw NoSuchImage("no such image: " + std::string(name_or_id));
    return *i;
}

std::vector<ImageInfo> Store::images() const {
    std::lock_guard lock(mutex_);
    std::vector<ImageInfo> out;
    auto q = db_->prepare("SELECT id FROM images ORDER BY created, id");
    while (q.step())
        out.push_back(*load_image(q.text(0)));
    return out;
}

void Store::tag(std::string_view name_or_id, const Reference& name) {
    std::lock_guard lock(mutex_);
    std::optional<std::string> source;
    auto id = resolve_id(name_or_id, &source);
    if (!id)
        throw NoSuchImage("no such image: " + std::string(name_or_id));
    auto info = load_image(*id, source);
    db_->prepare("INSERT OR REPLACE INTO names VALUES (?, ?, ?, ?)")
        .bind(1, name.str())
        .bind(2, *id)
        .bind(3, info->manifest.str())
        .bind(4, info->manifest_media_type)
        .run();
}

RemoveReport Store::remove(std::string_view name_or_id, bool force) {
    std::lock_guard lock(mutex_);
    RemoveReport report;
    auto id = resolve_id(name_or_id);
    if (!id)
        throw NoSuchImage("no such image: " + std::string(name_or_id));

    std::optional<std::string> by_name;
    try {
        auto ref = Reference::parse(name_or_id);
        if (db_->prepare("SELECT 1 FROM names WHERE name = ?").bind(1, ref.str()).step())
            by_name = ref.str();
    } catch (const InvalidReference&) {
    }
    auto names = load_image(*id)->names;
    if (by_name) {
        db_->prepare("DELETE FROM names WHERE name = ?").bind(1, *by_name).run();
        report.untagged.push_back(*by_name);
        if (names.size() > 1)
            return report;
    } else if (names.size() > 1 && !force) {
        throw ImageInUse("image " + *id + " has " + std::to_string(names.size()) +
                         " names; remove them by name or force the removal");
    } else {
        report.untagged = names;
    }
    delete_image_locked(*id, report);
    return report;
}

RemoveReport Store::prune() {
    std::lock_guard lock(mutex_);
    RemoveReport report;
    std::vector<std::string> dangling;
    auto q = db_->prepare("SELECT id FROM images WHERE id NOT IN (SELECT image_id FROM names)");
    while (q.step())
        dangling.push_back(q.text(0));
    for (const auto& id : dangling)
        delete_image_locked(id, report);
    return report;
}

void Store::delete_image_locked(const std::string& id, RemoveReport& report) {
    std::vector<std::string> blobs, layers;
    auto b = db_->prepare("SELECT digest FROM image_blobs WHERE image_id = ?");
    b.bind(1, id);
    while (b.step())
        blobs.push_back(b.text(0));
    auto l = db_->prepare("SELECT DISTINCT diff_id FROM image_layers WHERE image_id = ?");
    l.bind(1, id);
    while (l.step())
        layers.push_back(l.text(0));

    Transaction tx(*db_);
    db_->prepare("DELETE FROM images WHERE id = ?").bind(1, id).run();
    std::vector<std::string> dead_blobs, dead_layers;
    for (const auto& d : blobs)
        if (!db_->prepare("SELECT 1 FROM image_blobs WHERE digest = ?").bind(1, d).step() && !leased_locked("blob:" + d))
            dead_blobs.push_back(d);
    for (const auto& d : layers)
        if (!db_->prepare("SELECT 1 FROM image_layers WHERE diff_id = ?").bind(1, d).step() &&
            !leased_locked("layer:" + d))
            dead_layers.push_back(d);
    tx.commit();
    report.deleted_images.push_back(Digest::parse(id));

    // Files go after the commit: a crash in between leaves unreferenced files, never a record
    // pointing at missing content.
    std::error_code ec;
    for (const auto& d : dead_blobs)
        if (fs::remove(blob_path(Digest::parse(d)), ec))
            ++report.deleted_blobs;
    for (const auto& d : dead_layers)
        if (fs::remove_all(layer_path(Digest::parse(d)), ec) > 0 && !ec)
            ++report.deleted_layers;
}

std::vector<fs::path> Store::lower_dirs(const ImageInfo& image) const {
    std::vector<fs::path> out;
    for (auto it = image.layers.rbegin(); it != image.layers.rend(); ++it)
        out.push_back(layer_path(it->diff_id));
    return out;
}

} // namespace raind::images
