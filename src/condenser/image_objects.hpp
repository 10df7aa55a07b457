// One D-Bus object per stored image, /org/raind/Condenser1/image/<id hex>, announced through the
// root's ObjectManager (InterfacesAdded/Removed) and kept in step with the store.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "condenser1-adaptor.h"
#include "store.hpp"

namespace condenser {

class ImageObject final : public sdbus::AdaptorInterfaces<org::raind::Condenser1::Image_adaptor> {
public:
    ImageObject(sdbus::IConnection& connection, std::string path, raind::images::ImageInfo info);
    ~ImageObject();
    // Emits PropertiesChanged when something a client sees changed.
    void update(const raind::images::ImageInfo& info);
    void announce() { getObject().emitInterfacesAddedSignal({INTERFACE_NAME}); }
    void withdraw() { getObject().emitInterfacesRemovedSignal({INTERFACE_NAME}); }

private:
    std::string Id() override { return info_.id.str(); }
    std::vector<std::string> Names() override { return info_.names; }
    std::string Digest() override { return info_.manifest.str(); }
    int64_t Created() override { return info_.created; }
    uint64_t Size() override { return info_.size; }

    raind::images::ImageInfo info_;
};

class ImageObjects {
public:
    ImageObjects(sdbus::IConnection& connection, raind::images::Store& store);
    ~ImageObjects();

    static std::string path_of(const raind::images::Digest& id);

    // Adds, updates and removes objects to match the store. Loop thread only.
    void sync();

private:
    sdbus::IConnection& connection_;
    raind::images::Store& store_;
    std::map<std::string, std::unique_ptr<ImageObject>> objects_; // by path
};

} // namespace condenser
