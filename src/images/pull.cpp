#include "pull.hpp"

#include <atomic>
#include <exception>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "byte_pipe.hpp"
#include "parked_thread.hpp"

namespace raind::images {

namespace {

class Reporter {
public:
    explicit Reporter(const TransferCallback& cb) : cb_(cb) {}
    void operator()(TransferEvent::Kind kind, const std::string& digest, uint64_t current = 0, uint64_t total = 0) {
        if (!cb_)
            return;
        std::lock_guard lock(mutex_);
        cb_(TransferEvent{kind, digest, current, total});
    }

private:
    const TransferCallback& cb_;
    std::mutex mutex_;
};

// What this pull added, so a failure can take it back.
struct Added {
    std::mutex mutex;
    std::vector<Digest> blobs, layers;
    void blob(const Digest& d) {
        std::lock_guard lock(mutex);
        blobs.push_back(d);
    }
    void layer(const Digest& d) {
        std::lock_guard lock(mutex);
        layers.push_back(d);
    }
};

void download(RegistryClient& client, Store& store, const Reference& ref, const Descriptor& d, Reporter& report,
              Added& added, std::stop_token stop) {
    if (store.has_blob(d.digest)) {
        report(TransferEvent::Kind::blob_exists, d.digest.str(), d.size, d.size);
        return;
    }
    report(TransferEvent::Kind::blob_started, d.digest.str(), 0, d.size);
    auto writer = store.blob_writer(d.digest, d.size);
    client.fetch_blob(
        ref, d.digest, d.size, writer,
        [&](uint64_t done, uint64_t total) { report(TransferEvent::Kind::blob_progress, d.digest.str(), done, total); },
        stop);
    writer.commit();
    added.blob(d.digest);
    report(TransferEvent::Kind::blob_done, d.digest.str(), d.size, d.size);
}

// Downloads a layer and unpacks it as it arrives: the bytes go to the blob file (and its digest)
// and through a pipe to an unpacking thread. The unpacker sees the end of the stream only after
// the blob's digest verified, so the layer appears only then; a failed download fails the
// unpack, which leaves nothing. When both fail, the download's error is the one reported (a
// corrupted blob also makes a damaged archive; the digest says what really happened).
// `diff_id` may wait for the config, which downloads meanwhile.
void download_and_unpack(RegistryClient& client, Store& store, const Reference& ref, const Descriptor& d,
                         const std::function<Digest()>& diff_id, Reporter& report, Added& added,
                         std::stop_token stop) {
    report(TransferEvent::Kind::blob_started, d.digest.str(), 0, d.size);
    auto writer = store.blob_writer(d.digest, d.size);
    BytePipe pipe;
    writer.set_tee([&](const char* data, size_t n) { pipe.write(data, n); });
    std::exception_ptr unpack_error;
    ParkedTask unpacker([&] {
        try {
            if (store.unpack_layer([&](const void** data) { return pipe.read(data); }, d.digest.str(), diff_id, stop))
                added.layer(diff_id());
        } catch (...) {
            unpack_error = std::current_exception();
        }
        pipe.close_read(); // unblocks the download, which still verifies the blob
    });
    try {
        client.fetch_blob(
            ref, d.digest, d.size, writer,
            [&](uint64_t done, uint64_t total) { report(TransferEvent::Kind::blob_progress, d.digest.str(), done, total); },
            stop);
        writer.commit();
    } catch (...) {
        pipe.fail("the download of " + d.digest.str() + " failed"); // its own error is the one thrown
        unpacker.join();
        throw;
    }
    added.blob(d.digest);
    report(TransferEvent::Kind::blob_done, d.digest.str(), d.size, d.size);
    pipe.close();
    unpacker.join();
    if (unpack_error)
        std::rethrow_exception(unpack_error);
}

} // namespace

ImageInfo pull_image(RegistryClient& client, Store& store, const Reference& ref, const Platform& platform,
                     const TransferCallback& progress, std::stop_token stop) {
    Reporter report(progress);
    std::stop_source internal;
    std::stop_callback forward(stop, [&] { internal.request_stop(); });

    FetchedManifest top = client.get_manifest(ref);
    std::optional<FetchedManifest> index;
    FetchedManifest chosen = top;
    if (is_index(top.media_type)) {
        Index list = parse_index(top.body, top.media_type);
        chosen = client.get_manifest(ref, select_platform(list, platform).digest.str());
        index = std::move(top);
        if (is_index(chosen.media_type))
            throw Error(ref.str() + ": nested manifest lists are not supported");
    }
    report(TransferEvent::Kind::resolved, chosen.digest.str());
    Manifest manifest = parse_manifest(chosen.body, chosen.media_type);

    std::vector<Digest> blobs = {chosen.digest, manifest.config.digest};
    if (index)
        blobs.push_back(index->digest);
    for (const auto& l : manifest.layers)
        blobs.push_back(l.digest);
    Lease blob_lease = store.lease(blobs);
    Added added;
    std::optional<Lease> layer_lease;

    auto undo = [&] {
        // Leases first: they would keep what we are about to drop.
        layer_lease.reset();
        { Lease gone = std::move(blob_lease); }
        store.discard(added.blobs, added.layers);
    };

    try {
        std::exception_ptr first_error;
        std::mutex error_mutex;
        auto failed = [&] {
            std::lock_guard lock(error_mutex);
            if (!first_error)
                first_error = std::current_exception();
            internal.request_stop(); // the other transfers stop too
        };
        // The config downloads beside the layers, not before them: a layer streams in and is
        // unpacked at once, and needs its diff_id only to check what it unpacked.
        std::promise<std::vector<Digest>> config_done;
        std::shared_future<std::vector<Digest>> diff_ids = config_done.get_future().share();
        auto fetch_config = [&] {
            try {
                download(client, store, ref, manifest.config, report, added, internal.get_token());
                auto ids = config_diff_ids(store.read_blob(manifest.config.digest));
                if (ids.size() != manifest.layers.size())
                    throw Error(ref.str() + ": the config lists " + std::to_string(ids.size()) +
                                " layers but the manifest " + std::to_string(manifest.layers.size()));
                layer_lease.emplace(store.lease({}, ids)); // before any layer can be put in place
                config_done.set_value(std::move(ids));
            } catch (...) {
                config_done.set_exception(std::current_exception());
                failed();
            }
        };

        std::atomic<size_t> next{0};
        auto worker = [&] {
            for (size_t i; (i = next++) < manifest.layers.size();) {
                if (internal.stop_requested())
                    return;
                try {
                    const auto& layer = manifest.layers[i];
                    if (!store.has_blob(layer.digest)) {
                        download_and_unpack(client, store, ref, layer, [&] { return diff_ids.get()[i]; }, report,
                                            added, internal.get_token());
                    } else {
                        download(client, store, ref, layer, report, added, internal.get_token());
                        if (!store.has_layer(diff_ids.get()[i])) {
                            store.unpack_layer(layer.digest, diff_ids.get()[i], internal.get_token());
                            added.layer(diff_ids.get()[i]);
                        }
                    }
                    report(TransferEvent::Kind::layer_unpacked, diff_ids.get()[i].str());
                } catch (...) {
                    failed();
                    return;
                }
            }
        };
        size_t n = std::max<size_t>(1, std::min<size_t>(client.options().parallel_downloads, manifest.layers.size()));
        std::vector<ParkedTask> pool;
        try {
            for (size_t k = 0; k < n; ++k)
                pool.emplace_back(worker);
        } catch (...) {
            failed(); // the config below then settles its future, so the started workers end
        }
        fetch_config(); // here, while the layers stream: one thread less to wake on a busy machine
        pool.clear();   // joins
        if (first_error)
            std::rethrow_exception(first_error);
        if (stop.stop_requested())
            throw Cancelled();

        if (!store.has_blob(chosen.digest)) {
            store.write_blob(chosen.body, chosen.digest);
            added.blob(chosen.digest);
        }
        if (index && !store.has_blob(index->digest)) {
            store.write_blob(index->body, index->digest);
            added.blob(index->digest);
        }
        ImageInfo info{manifest.config.digest, chosen.digest, chosen.media_type,
                       index ? std::optional<Digest>(index->digest) : std::nullopt, {}, {}, 0, 0};
        for (size_t i = 0; i < manifest.layers.size(); ++i)
            info.layers.push_back(
                {manifest.layers[i].digest, diff_ids.get()[i], manifest.layers[i].media_type, manifest.layers[i].size});
        ImageInfo stored = store.add_image(info, {ref});
        report(TransferEvent::Kind::done, stored.id.str());
        return stored;
    } catch (...) {
        undo();
        throw;
    }
}

Digest push_image(RegistryClient& client, Store& store, std::string_view name_or_id, const Reference& dest,
                  const TransferCallback& progress, std::stop_token stop) {
    Reporter report(progress);
    ImageInfo image = store.image(name_or_id);
    Lease lease = store.lease({image.id, image.manifest});

    // A repository on the same registry that already has these blobs lets the registry mount them.
    std::optional<std::string> mount_from;
    for (const auto& n : image.names) {
        auto r = Reference::parse(n);
        if (r.registry == dest.registry && r.repository != dest.repository) {
            mount_from = r.repository;
            break;
        }
    }
    std::vector<std::pair<Digest, uint64_t>> blobs;
    for (const auto& l : image.layers)
        blobs.emplace_back(l.blob, l.size);
    blobs.emplace_back(image.id, store.read_blob(image.id).size());
    for (const auto& [digest, size] : blobs) {
        if (stop.stop_requested())
            throw Cancelled();
        if (client.blob_exists(dest, digest)) {
            report(TransferEvent::Kind::blob_exists, digest.str(), size, size);
            continue;
        }
        report(TransferEvent::Kind::blob_started, digest.str(), 0, size);
        const std::string d = digest.str();
        bool mounted = client.upload_blob(
            dest, digest, store.blob_path(digest), mount_from,
            [&](uint64_t done, uint64_t total) { report(TransferEvent::Kind::blob_progress, d, done, total); }, stop);
        report(mounted ? TransferEvent::Kind::blob_mounted : TransferEvent::Kind::blob_done, d, size, size);
    }
    Digest manifest = client.put_manifest(dest, image.manifest_media_type, store.read_blob(image.manifest));
    report(TransferEvent::Kind::done, manifest.str());
    return manifest;
}

} // namespace raind::images
