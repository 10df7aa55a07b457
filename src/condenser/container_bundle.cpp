#include "container_bundle.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container_rootfs.hpp"
#include "error.hpp"
#include "fd.hpp"

namespace condenser {
namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
    raind::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0)
        raind::throw_errno("create " + path.string());
    for (size_t done = 0; done < text.size();) {
        ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            raind::throw_errno("write " + path.string());
        done += static_cast<size_t>(n);
    }
}

// Removes a half-made bundle unless dismissed.
class BundleCleanup {
public:
    BundleCleanup(std::filesystem::path containers_dir, std::string id)
        : containers_dir_(std::move(containers_dir)), id_(std::move(id)) {}
    ~BundleCleanup() {
        if (armed_) {
            try {
                remove_bundle(containers_dir_, id_);
            } catch (...) {
                // The error that brought us here is the one to report.
            }
        }
    }
    void dismiss() { armed_ = false; }

private:
    std::filesystem::path containers_dir_;
    std::string id_;
    bool armed_ = true;
};

} // namespace

std::filesystem::path create_bundle(const std::filesystem::path& containers_dir,
                                    const std::vector<std::filesystem::path>& lower_dirs,
                                    const raind::images::ImageConfig& image, ContainerRequest request,
                                    const std::function<void(nlohmann::json&)>& adjust) {
    if (request.id.size() != 64 || request.id.find_first_not_of("0123456789abcdef") != std::string::npos)
        throw InvalidContainerArgument("container id " + request.id + " is not 64 hex digits");
    std::filesystem::create_directories(containers_dir);
    auto bundle = containers_dir / request.id;
    if (::mkdir(bundle.c_str(), 0700) != 0)
        raind::throw_errno("create container directory " + bundle.string());
    BundleCleanup cleanup(containers_dir, request.id);
    OverlayRootfs rootfs(lower_dirs, bundle / "upper", bundle / "work", bundle / "rootfs");
    request.rootfs = rootfs.target();
    auto spec = container_spec(image, request);
    if (adjust)
        adjust(spec);
    write_file(bundle / "config.json", spec.dump(2) + "\n");
    rootfs.release();
    cleanup.dismiss();
    return bundle;
}

void remove_bundle(const std::filesystem::path& containers_dir, const std::string& id) {
    if (id.empty() || id.find('/') != std::string::npos || id == "." || id == "..")
        throw InvalidContainerArgument("container id \"" + id + "\" is not valid");
    auto bundle = containers_dir / id;
    unmount_rootfs(bundle / "rootfs");
    std::error_code error;
    std::filesystem::remove_all(bundle, error);
    if (error)
        throw raind::SystemError("remove container directory " + bundle.string(), error.value());
}

} // namespace condenser
