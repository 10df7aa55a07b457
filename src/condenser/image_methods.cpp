// The image methods of the Manager: authorize, call the image library, marshal.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "archive.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "manager.hpp"
#include "pull.hpp"
#include "registry_settings.hpp"

namespace condenser {
namespace {

namespace images = raind::images;

const char* event_name(images::TransferEvent::Kind kind) {
    using Kind = images::TransferEvent::Kind;
    switch (kind) {
    case Kind::resolved: return "resolved";
    case Kind::blob_started: return "blob-started";
    case Kind::blob_progress: return "blob-progress";
    case Kind::blob_exists: return "blob-exists";
    case Kind::blob_mounted: return "blob-mounted";
    case Kind::blob_done: return "blob-done";
    case Kind::layer_unpacked: return "layer-unpacked";
    case Kind::done: return "done";
    }
    return "unknown";
}

// A file under the daemon's temp directory, removed when this goes away.
class TempFile {
public:
    explicit TempFile(const std::filesystem::path& dir) {
        std::string pattern = (dir / "archive-XXXXXX").string();
        raind::UniqueFd fd(::mkstemp(pattern.data()));
        if (!fd)
            raind::throw_errno("create a temporary file in " + dir.string());
        path_ = pattern;
    }
    ~TempFile() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

void copy_fd(int from, int to, const std::string& what, std::stop_token stop) {
    char buffer[1 << 16];
    while (true) {
        if (stop.stop_requested())
            throw images::Cancelled();
        ssize_t n = ::read(from, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            raind::throw_errno("read " + what);
        if (n == 0)
            return;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = ::write(to, buffer + done, static_cast<size_t>(n - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0)
                raind::throw_errno("write " + what);
            done += w;
        }
    }
}

nlohmann::json inspect_document(images::Store& store, const images::ImageInfo& image) {
    auto config = nlohmann::json::parse(store.read_blob(image.id));
    nlohmann::json repo_digests = nlohmann::json::array();
    for (const auto& name : image.names) {
        auto ref = images::Reference::parse(name);
        repo_digests.push_back(ref.name() + "@" + image.manifest.str());
    }
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& layer : image.layers)
        layers.push_back(layer.diff_id.str());
    return {
        {"Id", image.id.str()},
        {"RepoTags", image.names},
        {"RepoDigests", repo_digests},
        {"Created", config.value("created", "")},
        {"Architecture", config.value("architecture", "")},
        {"Os", config.value("os", "")},
        {"Variant", config.value("variant", "")},
        {"Size", image.size},
        {"Config", config.value("config", nlohmann::json::object())},
        {"RootFS", {{"Type", "layers"}, {"Layers", layers}}},
        {"Manifest", {{"Digest", image.manifest.str()}, {"MediaType", image.manifest_media_type}}},
    };
}

} // namespace

std::function<void(const images::TransferEvent&)> Manager::progress_for(const std::string& reference) {
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    return [this, reference, last](const images::TransferEvent& event) {
        if (event.kind == images::TransferEvent::Kind::blob_progress && event.current < event.total) {
            auto now = std::chrono::steady_clock::now();
            if (now - *last < std::chrono::milliseconds(100))
                return;
            *last = now;
        }
        loop_.post([this, reference, event] {
            emitImageProgress(reference, event_name(event.kind), event.digest, event.current, event.total);
        });
    };
}

void Manager::PullImage(sdbus::Result<std::string, sdbus::ObjectPath>&& result, std::string reference,
                        std::map<std::string, sdbus::Variant> options) {
    manage(std::move(result), {{"image", reference}, {"verb", "pull"}},
           [this, reference, options = ParsedOptions(options)](std::stop_token stop) {
               auto ref = images::Reference::parse(reference);
               auto call = options.get();
               images::RegistryClient client(registry_options_for(settings_.registries_conf, ref.registry, call));
               auto platform = call.platform.empty() ? images::Platform::host() : images::Platform::parse(call.platform);
               auto image = images::pull_image(client, store_, ref, platform, progress_for(reference), stop);
               return std::tuple{image.id.str(), sdbus::ObjectPath(ImageObjects::path_of(image.id))};
           });
}

void Manager::PushImage(sdbus::Result<std::string>&& result, std::string image, std::string destination,
                        std::map<std::string, sdbus::Variant> options) {
    manage(std::move(result), {{"image", image}, {"destination", destination}, {"verb", "push"}},
           [this, image, destination, options = ParsedOptions(options)](std::stop_token stop) {
               auto dest = images::Reference::parse(destination);
               auto call = options.get();
               images::RegistryClient client(registry_options_for(settings_.registries_conf, dest.registry, call));
               auto digest = images::push_image(client, store_, image, dest, progress_for(destination), stop);
               return std::tuple{digest.str()};
           });
}

void Manager::ListImages(sdbus::Result<std::vector<ImageRow>>&& result) {
    read(std::move(result), {{"verb", "list-images"}}, [this](auto& reply) {
        std::vector<ImageRow> rows;
        for (const auto& image : store_.images())
            rows.emplace_back(image.id.str(), image.names, image.manifest.str(), image.created, image.size);
        reply.returnResults(rows);
    });
}

void Manager::InspectImage(sdbus::Result<std::string>&& result, std::string image) {
    read(std::move(result), {{"image", image}, {"verb", "inspect-image"}}, [this, image](auto& reply) {
        reply.returnResults(inspect_document(store_, store_.image(image)).dump());
    });
}

void Manager::GetImage(sdbus::Result<sdbus::ObjectPath>&& result, std::string image) {
    read(std::move(result), {{"image", image}, {"verb", "get-image"}}, [this, image](auto& reply) {
        reply.returnResults(sdbus::ObjectPath(ImageObjects::path_of(store_.image(image).id)));
    });
}

void Manager::TagImage(sdbus::Result<>&& result, std::string image, std::string name) {
    manage(std::move(result), {{"image", image}, {"name", name}, {"verb", "tag"}}, [this, image, name](std::stop_token) {
        store_.tag(image, images::Reference::parse(name));
        return std::tuple<>{};
    });
}

void Manager::RemoveImage(sdbus::Result<std::vector<std::string>, std::vector<std::string>>&& result,
                          std::string image, bool force) {
    manage(std::move(result), {{"image", image}, {"verb", "remove"}, {"force", force ? "true" : "false"}},
           [this, image, force](std::stop_token) {
               // Containers run on the image's layers: it may lose a name, never its content.
               if (auto info = store_.find_image(image)) {
                   bool by_name = false;
                   try {
                       auto name = images::Reference::parse(image).str();
                       by_name = std::find(info->names.begin(), info->names.end(), name) != info->names.end();
                   } catch (const images::InvalidReference&) {
                       // An id or id prefix.
                   }
                   auto users = containers_.users_of(info->id.str());
                   if (!users.empty() && (!by_name || info->names.size() <= 1))
                       throw errors::make(errors::image_in_use,
                                          "image " + image + " is used by container " + users.front() +
                                              (users.size() > 1 ? " and " + std::to_string(users.size() - 1) + " more" : "") +
                                              ": remove the containers first");
               }
               auto report = store_.remove(image, force);
               std::vector<std::string> deleted;
               for (const auto& id : report.deleted_images)
                   deleted.push_back(id.str());
               return std::tuple{report.untagged, deleted};
           });
}

void Manager::SaveImages(sdbus::Result<>&& result, std::vector<std::string> images, std::string format,
                         sdbus::UnixFd fd) {
    std::string joined;
    for (const auto& image : images)
        joined += (joined.empty() ? "" : " ") + image;
    manage(std::move(result), {{"image", joined}, {"verb", "save"}},
           [this, images, format, fd](std::stop_token stop) {
               if (format != "docker-archive")
                   throw errors::make(errors::invalid_argument,
                                      "unknown archive format '" + format + "' (known: docker-archive)");
               if (images.empty())
                   throw errors::make(errors::invalid_argument, "no image to save");
               // The library writes beside the target and renames; the caller's fd may be a pipe.
               TempFile archive(temp_dir_);
               images::export_docker_archive(store_, images, archive.path());
               raind::UniqueFd in(::open(archive.path().c_str(), O_RDONLY | O_CLOEXEC));
               if (!in)
                   raind::throw_errno("open " + archive.path().string());
               copy_fd(in.get(), fd.get(), "the archive to the caller's file descriptor", stop);
               return std::tuple<>{};
           });
}

void Manager::LoadImages(sdbus::Result<std::vector<std::string>>&& result, sdbus::UnixFd fd) {
    manage(std::move(result), {{"verb", "load"}}, [this, fd](std::stop_token stop) {
        // docker archives are read twice (manifest.json, then the layers): a pipe must land first.
        TempFile archive(temp_dir_);
        {
            raind::UniqueFd out(::open(archive.path().c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
            if (!out)
                raind::throw_errno("open " + archive.path().string());
            copy_fd(fd.get(), out.get(), "the archive from the caller's file descriptor", stop);
        }
        std::vector<std::string> names;
        for (const auto& image : images::import_archive(store_, archive.path(), stop)) {
            if (image.names.empty())
                names.push_back(image.id.str());
            names.insert(names.end(), image.names.begin(), image.names.end());
        }
        return std::tuple{names};
    });
}

void Manager::ListRegistryRepositories(sdbus::Result<std::vector<std::string>>&& result, std::string registry,
                                       std::map<std::string, sdbus::Variant> options) {
    manage(std::move(result), {{"registry", registry}, {"verb", "registry-catalog"}},
           [this, registry, options = ParsedOptions(options)](std::stop_token) {
               images::RegistryClient client(
                   registry_options_for(settings_.registries_conf, registry, options.get()));
               return std::tuple{client.catalog(registry)};
           });
}

void Manager::ListRegistryTags(sdbus::Result<std::vector<std::string>>&& result, std::string repository,
                               std::map<std::string, sdbus::Variant> options) {
    manage(std::move(result), {{"image", repository}, {"verb", "registry-tags"}},
           [this, repository, options = ParsedOptions(options)](std::stop_token) {
               auto ref = images::Reference::parse(repository);
               images::RegistryClient client(
                   registry_options_for(settings_.registries_conf, ref.registry, options.get()));
               return std::tuple{client.list_tags(ref)};
           });
}

void Manager::CheckRegistryLogin(sdbus::Result<>&& result, std::string registry,
                                 std::map<std::string, sdbus::Variant> options) {
    manage(std::move(result), {{"registry", registry}, {"verb", "login"}}, [this, registry, options = ParsedOptions(options)](std::stop_token) {
        auto call = options.get();
        if (!call.auth)
            throw errors::make(errors::invalid_argument, "login needs credentials (option 'auth')");
        images::RegistryClient client(registry_options_for(settings_.registries_conf, registry, call));
        client.check_login(registry, *call.auth);
        return std::tuple<>{};
    });
}

void Manager::DeleteRegistryImage(sdbus::Result<>&& result, std::string reference,
                                  std::map<std::string, sdbus::Variant> options) {
    manage(std::move(result), {{"image", reference}, {"verb", "registry-delete"}},
           [this, reference, options = ParsedOptions(options)](std::stop_token) {
               auto ref = images::Reference::parse(reference);
               images::RegistryClient client(
                   registry_options_for(settings_.registries_conf, ref.registry, options.get()));
               client.delete_manifest(ref);
               return std::tuple<>{};
           });
}

} // namespace condenser
