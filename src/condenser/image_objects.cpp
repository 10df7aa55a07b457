#include "image_objects.hpp"

namespace condenser {
namespace {
constexpr const char* image_interface = org::raind::Condenser1::Image_adaptor::INTERFACE_NAME;
} // namespace

ImageObject::ImageObject(sdbus::IConnection& connection, std::string path, raind::images::ImageInfo info)
    : AdaptorInterfaces(connection, std::move(path)), info_(std::move(info)) {
    registerAdaptor();
}

ImageObject::~ImageObject() { unregisterAdaptor(); }

void ImageObject::update(const raind::images::ImageInfo& info) {
    std::vector<std::string> changed;
    if (info.names != info_.names)
        changed.push_back("Names");
    if (info.manifest != info_.manifest)
        changed.push_back("Digest");
    info_ = info;
    if (!changed.empty())
        getObject().emitPropertiesChangedSignal(image_interface, changed);
}

ImageObjects::ImageObjects(sdbus::IConnection& connection, raind::images::Store& store)
    : connection_(connection), store_(store) {
    sync();
}

ImageObjects::~ImageObjects() = default;

std::string ImageObjects::path_of(const raind::images::Digest& id) {
    return "/org/raind/Condenser1/image/" + std::string(id.hex());
}

void ImageObjects::sync() {
    std::map<std::string, raind::images::ImageInfo> now;
    for (auto& image : store_.images())
        now.emplace(path_of(image.id), std::move(image));

    for (auto it = objects_.begin(); it != objects_.end();) {
        if (now.count(it->first) == 0) {
            it->second->withdraw();
            it = objects_.erase(it);
        } else {
            ++it;
        }
    }
    for (auto& [path, image] : now) {
        auto found = objects_.find(path);
        if (found != objects_.end()) {
            found->second->update(image);
            continue;
        }
        auto object = std::make_unique<ImageObject>(connection_, path, std::move(image));
        object->announce();
        objects_.emplace(path, std::move(object));
    }
}

} // namespace condenser
