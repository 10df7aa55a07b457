#include "manager.hpp"

#include "authorized.hpp"
#include "raind-config.h"

namespace condenser {

Manager::Manager(sdbus::IConnection& connection, Authority& authority, Activity& activity, const Settings& settings)
    : AdaptorInterfaces(connection, object_path), authority_(authority), activity_(activity), settings_(settings) {
    registerAdaptor();
}

Manager::~Manager() { unregisterAdaptor(); }

void Manager::Version(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result) {
    serve_authorized(getObject(), authority_, activity_, "org.raind.condenser.read", {{"verb", "version"}},
                     std::move(result), [this](auto& reply) {
                         reply.returnResults({
                             {"Version", sdbus::Variant(std::string(RAIND_VERSION))},
                             {"ApiVersion", sdbus::Variant(std::string("1"))},
                             {"StorageRoot", sdbus::Variant(settings_.state_dir)},
                             {"CgroupDriver", sdbus::Variant(settings_.cgroup_driver)},
                             {"Runtime", sdbus::Variant(settings_.runtime_path)},
                         });
                     });
}

} // namespace condenser
