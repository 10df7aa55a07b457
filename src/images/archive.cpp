#include "archive.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "fd.hpp"
#include "registry.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace raind::images {

namespace {

// libarchive leaves the string NULL for some failures (a read callback that gave up).
std::string error_text(archive* a) {
    const char* text = archive_error_string(a);
    return text ? text : "libarchive gave no reason";
}

constexpr const char* ref_name_annotation = "org.opencontainers.image.ref.name";
constexpr const char* containerd_name_annotation = "io.containerd.image.name";

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in)
        throw SystemError("read " + p.string(), errno);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

json parse(const std::string& text, const std::string& what) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(what + ": invalid JSON: " + e.what());
    }
}

class ScratchDir {
public:
    ScratchDir() {
        std::string t = (fs::temp_directory_path() / "raind-import-XXXXXX").string();
        if (!::mkdtemp(t.data()))
            throw_errno("create scratch directory");
        path_ = t;
    }
    ~ScratchDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

void stream_file(const fs::path& file, const std::function<void(const char*, size_t)>& out, std::stop_token stop = {}) {
    UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        throw_errno("open " + file.string());
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
        if (stop.stop_requested())
            throw Cancelled();
        out(buf, static_cast<size_t>(n));
    }
    if (n < 0)
        throw_errno("read " + file.string());
}

// Supplies a blob's bytes to the store.
using BlobSource = std::function<void(const Descriptor&, BlobWriter&)>;

// Copies what is missing into the store, unpacks the layers and records the image; on failure
// takes back what it added.
ImageInfo add_image_from(Store& store, const FetchedManifest& chosen, const std::optional<FetchedManifest>& index,
                         const std::vector<Reference>& names, const BlobSource& source, std::stop_token stop) {
    Manifest manifest = parse_manifest(chosen.body, chosen.media_type);
    std::vector<Digest> blobs = {chosen.digest, manifest.config.digest};
    for (const auto& l : manifest.layers)
        blobs.push_back(l.digest);
    if (index)
        blobs.push_back(index->digest);
    std::vector<Digest> added_blobs, added_layers;
    std::optional<Lease> blob_lease(store.lease(blobs));
    std::optional<Lease> layer_lease;
    auto copy = [&](const Descriptor& d) {
        if (store.has_blob(d.digest))
            return;
        auto w = store.blob_writer(d.digest, d.size);
        source(d, w);
        w.commit();
        added_blobs.push_back(d.digest);
    };
    try {
        copy(manifest.config);
        auto diff_ids = config_diff_ids(store.read_blob(manifest.config.digest));
        if (diff_ids.size() != manifest.layers.size())
            throw Error("image " + manifest.config.digest.str() + ": the config lists " +
                        std::to_string(diff_ids.size()) + " layers but the manifest " +
                        std::to_string(manifest.layers.size()));
        layer_lease.emplace(store.lease({}, diff_ids));
        ImageInfo info{manifest.config.digest, chosen.digest, chosen.media_type,
                       index ? std::optional<Digest>(index->digest) : std::nullopt, {}, {}, 0, 0};
        for (size_t i = 0; i < manifest.layers.size(); ++i) {
            const auto& l = manifest.layers[i];
            copy(l);
            if (!store.has_layer(diff_ids[i])) {
                store.unpack_layer(l.digest, diff_ids[i], stop);
                added_layers.push_back(diff_ids[i]);
            }
            info.layers.push_back({l.digest, diff_ids[i], l.media_type, l.size});
        }
        for (const auto* m : {&chosen, index ? &*index : nullptr})
            if (m && !store.has_blob(m->digest)) {
                store.write_blob(m->body, m->digest);
                added_blobs.push_back(m->digest);
            }
        return store.add_image(info, names);
    } catch (...) {
        layer_lease.reset();
        blob_lease.reset();
        store.discard(added_blobs, added_layers);
        throw;
    }
}

std::string layer_media_type(const fs::path& file) {
    unsigned char magic[4] = {};
    std::ifstream in(file, std::ios::binary);
    in.read(reinterpret_cast<char*>(magic), 4);
    if (magic[0] == 0x1f && magic[1] == 0x8b)
        return "application/vnd.oci.image.layer.v1.tar+gzip";
    if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
        return "application/vnd.oci.image.layer.v1.tar+zstd";
    return "application/vnd.oci.image.layer.v1.tar";
}

struct WriterDeleter {
    void operator()(archive* a) const noexcept { archive_write_free(a); }
};
struct ReaderDeleter {
    void operator()(archive* a) const noexcept { archive_read_free(a); }
};

class TarWriter {
public:
    explicit TarWriter(const fs::path& path) : a_(archive_write_new()), path_(path) {
        archive_write_set_format_pax_restricted(a_.get());
        if (archive_write_open_filename(a_.get(), path.c_str()) != ARCHIVE_OK)
            throw Error("write " + path.string() + ": " + error_text(a_.get()));
    }
    void add(const std::string& name, uint64_t size, const std::function<void(const std::function<void(const char*, size_t)>&)>& body) {
        std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(), archive_entry_free);
        archive_entry_set_pathname(e.get(), name.c_str());
        archive_entry_set_filetype(e.get(), AE_IFREG);
        archive_entry_set_perm(e.get(), 0644);
        archive_entry_set_size(e.get(), static_cast<la_int64_t>(size));
        if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK)
            throw Error("write " + path_.string() + ": " + error_text(a_.get()));
        body([&](const char* d, size_t n) {
            if (archive_write_data(a_.get(), d, n) < 0)
                throw Error("write " + path_.string() + ": " + error_text(a_.get()));
        });
    }
    void add(const std::string& name, const std::string& data) {
        add(name, data.size(), [&](const auto& out) { out(data.data(), data.size()); });
    }
    void close() {
        if (archive_write_close(a_.get()) != ARCHIVE_OK)
            throw Error("write " + path_.string() + ": " + error_text(a_.get()));
    }

private:
    std::unique_ptr<archive, WriterDeleter> a_;
    fs::path path_;
};

// Decompresses a layer blob into `out`, checking it hashes to the diff_id.
void decompress_layer(const fs::path& blob, const Digest& diff_id, const fs::path& out) {
    std::unique_ptr<archive, ReaderDeleter> a(archive_read_new());
    archive_read_support_filter_all(a.get());
    archive_read_support_format_raw(a.get());
    archive_entry* e = nullptr;
    if (archive_read_open_filename(a.get(), blob.c_str(), 65536) != ARCHIVE_OK ||
        archive_read_next_header(a.get(), &e) != ARCHIVE_OK)
        throw Error("layer " + blob.string() + ": " + error_text(a.get()));
    std::ofstream o(out, std::ios::binary);
    Sha256 h;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) {
        h.update(buf, static_cast<size_t>(n));
        o.write(buf, n);
    }
    if (n < 0)
        throw Error("layer " + blob.string() + ": " + error_text(a.get()));
    if (h.finish() != diff_id)
        throw DigestMismatch("layer " + blob.string() + " does not decompress to its diff_id " + diff_id.str());
}

void copy_or_link(const fs::path& from, const fs::path& to) {
    if (fs::exists(to))
        return;
    fs::path tmp = to.string() + ".tmp";
    std::error_code ec;
    fs::remove(tmp, ec);
    fs::create_hard_link(from, tmp, ec);
    if (ec)
        fs::copy_file(from, tmp);
    fs::rename(tmp, to);
}

} // namespace

std::vector<ImageInfo> import_oci_layout(Store& store, const fs::path& dir, const std::optional<Reference>& name,
                                         const Platform& platform, std::stop_token stop) {
    if (!fs::exists(dir / "oci-layout") || !fs::exists(dir / "index.json"))
        throw Error(dir.string() + " is not an OCI image layout (no oci-layout or index.json)");
    auto blob_file = [&](const Digest& d) { return dir / "blobs" / "sha256" / std::string(d.hex()); };
    auto fetch = [&](const Digest& d, std::string_view declared_type) {
        std::string body = read_file(blob_file(d));
        if (sha256_of(body) != d)
            throw DigestMismatch("OCI layout " + dir.string() + ": blob " + d.str() + " does not match its digest");
        return FetchedManifest{d, detect_media_type(declared_type, body), body};
    };
    json index = parse(read_file(dir / "index.json"), (dir / "index.json").string());
    if (!index.contains("manifests") || !index["manifests"].is_array())
        throw Error((dir / "index.json").string() + ": no manifests array");
    if (name && index["manifests"].size() != 1)
        throw Error("OCI layout " + dir.string() + " holds " + std::to_string(index["manifests"].size()) +
                    " images; a name can only be given to one");
    BlobSource source = [&](const Descriptor& d, BlobWriter& w) {
        stream_file(blob_file(d.digest), [&](const char* p, size_t n) { w.write(p, n); }, stop);
    };
    std::vector<ImageInfo> out;
    for (const auto& entry : index["manifests"]) {
        Digest d = Digest::parse(entry.value("digest", std::string()));
        FetchedManifest top = fetch(d, entry.value("mediaType", std::string()));
        std::optional<FetchedManifest> parent;
        FetchedManifest chosen = top;
        if (is_index(top.media_type)) {
            Index list = parse_index(top.body, top.media_type);
            const Descriptor& child = select_platform(list, platform);
            chosen = fetch(child.digest, child.media_type);
            parent = top;
        }
        std::vector<Reference> names;
        if (name) {
            names.push_back(*name);
        } else if (entry.contains("annotations")) {
            const auto& a = entry["annotations"];
            std::string full = a.value(containerd_name_annotation, std::string());
            std::string ref_name = a.value(ref_name_annotation, std::string());
            if (!full.empty())
                names.push_back(Reference::parse(full));
            else if (!ref_name.empty())
                names.push_back(Reference::parse(ref_name));
        }
        out.push_back(add_image_from(store, chosen, parent, names, source, stop));
    }
    return out;
}

void export_oci_layout(Store& store, const std::vector<std::string>& images, const fs::path& dir) {
    fs::create_directories(dir / "blobs" / "sha256");
    if (!fs::exists(dir / "oci-layout"))
        std::ofstream(dir / "oci-layout") << R"({"imageLayoutVersion":"1.0.0"})";
    json index = {{"schemaVersion", 2}, {"manifests", json::array()}};
    if (fs::exists(dir / "index.json"))
        index = parse(read_file(dir / "index.json"), (dir / "index.json").string());
    for (const auto& which : images) {
        ImageInfo info = store.image(which);
        for (const auto& b : std::vector<Digest>{info.manifest, info.id})
            copy_or_link(store.blob_path(b), dir / "blobs" / "sha256" / std::string(b.hex()));
        for (const auto& l : info.layers)
            copy_or_link(store.blob_path(l.blob), dir / "blobs" / "sha256" / std::string(l.blob.hex()));
        // Name the entry after what was asked for when that is a name, else after every name.
        std::vector<std::string> names;
        for (const auto& n : info.names)
            if (Reference::parse(which).str() == n)
                names = {n};
        if (names.empty())
            names = info.names;
        json desc = {{"mediaType", info.manifest_media_type},
                     {"digest", info.manifest.str()},
                     {"size", fs::file_size(store.blob_path(info.manifest))}};
        if (names.empty())
            index["manifests"].push_back(desc);
        for (const auto& n : names) {
            Reference r = Reference::parse(n);
            json named = desc;
            named["annotations"] = {{ref_name_annotation, r.tag.empty() ? r.digest : r.tag},
                                    {containerd_name_annotation, n}};
            index["manifests"].push_back(named);
        }
    }
    std::ofstream(dir / "index.json.tmp") << index.dump();
    fs::rename(dir / "index.json.tmp", dir / "index.json");
}

// An OCI layout that came as a tarball: its entries (already extracted under numbered names)
// are moved into a layout directory, taking only the names a layout has, then imported from it.
std::vector<ImageInfo> import_layout_entries(Store& store, const fs::path& scratch,
                                             const std::map<std::string, fs::path>& files,
                                             const fs::path& tarball, std::stop_token stop) {
    fs::path layout = scratch / "layout";
    fs::create_directories(layout / "blobs" / "sha256");
    for (const auto& [path, file] : files) {
        if (path == "oci-layout" || path == "index.json") {
            fs::rename(file, layout / path);
        } else if (path.rfind("blobs/sha256/", 0) == 0) {
            std::string hex = path.substr(13);
            // Only a digest's hex may name a blob: nothing else can reach outside the layout.
            if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos)
                throw Error("OCI layout archive " + tarball.string() + ": \"" + path + "\" is not a sha256 blob name");
            fs::rename(file, layout / "blobs" / "sha256" / hex);
        }
    }
    return import_oci_layout(store, layout, std::nullopt, Platform::host(), stop);
}

std::vector<ImageInfo> import_archive(Store& store, const fs::path& tarball, std::stop_token stop) {
    ScratchDir scratch;
    // Entries land under numbered names: archive paths are only map keys, never file paths.
    std::map<std::string, fs::path> files;
    {
        std::unique_ptr<archive, ReaderDeleter> a(archive_read_new());
        archive_read_support_filter_all(a.get());
        archive_read_support_format_tar(a.get());
        if (archive_read_open_filename(a.get(), tarball.c_str(), 65536) != ARCHIVE_OK)
            throw Error("docker archive " + tarball.string() + ": " + error_text(a.get()));
        archive_entry* e = nullptr;
        int r;
        while ((r = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK) {
            if (archive_entry_filetype(e) != AE_IFREG)
                continue;
            std::string path = archive_entry_pathname(e);
            while (path.rfind("./", 0) == 0)
                path.erase(0, 2);
            fs::path dest = scratch.path() / std::to_string(files.size());
            std::ofstream o(dest, std::ios::binary);
            const void* block;
            size_t size;
            la_int64_t offset;
            int rr;
            while ((rr = archive_read_data_block(a.get(), &block, &size, &offset)) == ARCHIVE_OK) {
                if (stop.stop_requested())
                    throw Cancelled();
                o.seekp(offset);
                o.write(static_cast<const char*>(block), static_cast<std::streamsize>(size));
            }
            if (rr != ARCHIVE_EOF)
                throw Error("docker archive " + tarball.string() + ": entry " + path + ": " +
                            error_text(a.get()));
            files[path] = dest;
        }
        if (r != ARCHIVE_EOF)
            throw Error("docker archive " + tarball.string() + ": " + error_text(a.get()));
    }
    if (!files.contains("manifest.json")) {
        if (files.contains("oci-layout") && files.contains("index.json"))
            return import_layout_entries(store, scratch.path(), files, tarball, stop);
        throw Error("archive " + tarball.string() +
                    ": neither a docker-save archive (no manifest.json) nor an OCI layout (no oci-layout and index.json)");
    }
    auto file = [&](const std::string& path) {
        auto it = files.find(path);
        if (it == files.end())
            throw Error("docker archive " + tarball.string() + ": manifest.json names \"" + path +
                        "\", which is not in the archive");
        return it->second;
    };
    json manifest = parse(read_file(file("manifest.json")), "docker archive " + tarball.string() + ": manifest.json");
    if (!manifest.is_array())
        throw Error("docker archive " + tarball.string() + ": manifest.json is not an array");

    std::vector<ImageInfo> out;
    for (const auto& item : manifest) {
        std::string config = read_file(file(item.value("Config", std::string())));
        json oci = {{"schemaVersion", 2},
                    {"mediaType", media_type::oci_manifest},
                    {"config", {{"mediaType", media_type::oci_config}, {"digest", sha256_of(config).str()}, {"size", config.size()}}},
                    {"layers", json::array()}};
        std::map<std::string, fs::path> sources; // digest -> file
        for (const auto& l : item.value("Layers", json::array())) {
            fs::path f = file(l.get<std::string>());
            Digest d = sha256_of_file(f);
            sources[d.str()] = f;
            oci["layers"].push_back({{"mediaType", layer_media_type(f)}, {"digest", d.str()}, {"size", fs::file_size(f)}});
        }
        std::vector<Reference> names;
        for (const auto& t : item.value("RepoTags", json::array()))
            names.push_back(Reference::parse(t.get<std::string>()));
        std::string body = oci.dump();
        FetchedManifest chosen{sha256_of(body), std::string(media_type::oci_manifest), body};
        BlobSource source = [&](const Descriptor& d, BlobWriter& w) {
            if (d.digest == sha256_of(config))
                return w.write(config.data(), config.size());
            stream_file(sources.at(d.digest.str()), [&](const char* p, size_t n) { w.write(p, n); }, stop);
        };
        out.push_back(add_image_from(store, chosen, std::nullopt, names, source, stop));
    }
    return out;
}

void export_docker_archive(Store& store, const std::vector<std::string>& images, const fs::path& tarball) {
    ScratchDir scratch;
    fs::path tmp = tarball.string() + ".tmp";
    try {
        TarWriter tar(tmp);
        json manifest = json::array();
        json repositories = json::object();
        std::vector<std::string> written;
        for (const auto& which : images) {
            ImageInfo info = store.image(which);
            std::string config_name = std::string(info.id.hex()) + ".json";
            if (std::find(written.begin(), written.end(), config_name) == written.end()) {
                tar.add(config_name, store.read_blob(info.id));
                written.push_back(config_name);
            }
            json layers = json::array();
            for (const auto& l : info.layers) {
                std::string name = std::string(l.diff_id.hex()) + "/layer.tar";
                layers.push_back(name);
                if (std::find(written.begin(), written.end(), name) != written.end())
                    continue;
                fs::path plain = scratch.path() / std::string(l.diff_id.hex());
                decompress_layer(store.blob_path(l.blob), l.diff_id, plain);
                tar.add(name, fs::file_size(plain), [&](const auto& out) { stream_file(plain, out); });
                fs::remove(plain);
                written.push_back(name);
            }
            json tags = json::array();
            for (const auto& n : info.names) {
                Reference r = Reference::parse(n);
                if (r.tag.empty())
                    continue;
                tags.push_back(r.familiar());
                std::string repo = r.familiar().substr(0, r.familiar().rfind(':'));
                repositories[repo][r.tag] = std::string(info.layers.empty() ? info.id.hex() : info.layers.back().diff_id.hex());
            }
            manifest.push_back({{"Config", config_name}, {"RepoTags", tags}, {"Layers", layers}});
        }
        tar.add("manifest.json", manifest.dump());
        tar.add("repositories", repositories.dump());
        tar.close();
        fs::rename(tmp, tarball);
    } catch (...) {
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }
}

} // namespace raind::images
