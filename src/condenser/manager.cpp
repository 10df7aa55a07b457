#include "manager.hpp"

#include "raind-config.h"

namespace condenser {

namespace {

ShimSettings shim_settings(const Settings& settings) {
    return {settings.shim_path, settings.runtime_path, std::filesystem::path(settings.state_dir) / "containers",
            std::filesystem::path(settings.run_dir) / "containers"};
}

} // namespace

Manager::Manager(sdbus::IConnection& connection, Loop& loop, Authority& authority, Activity& activity,
                 raind::db::Database& database, const Settings& settings)
    : AdaptorInterfaces(connection, object_path), loop_(loop), authority_(authority), activity_(activity),
      settings_(settings), temp_dir_(std::filesystem::path(settings.state_dir) / "tmp"),
      store_(std::filesystem::path(settings.state_dir) / "images"), image_objects_(connection, store_),
      containers_(connection, loop, database, store_, shim_settings(settings)),
      async_{loop_, jobs_, [this] { image_objects_.sync(); }}, container_async_{loop_, jobs_, {}} {
    // Half-written archives of a crash.
    std::error_code ignored;
    std::filesystem::remove_all(temp_dir_, ignored);
    std::filesystem::create_directories(temp_dir_);
    registerAdaptor();
}

Manager::~Manager() { unregisterAdaptor(); }

void Manager::Version(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result) {
    read(std::move(result), {{"verb", "version"}}, [this](auto& reply) {
        reply.returnResults({
            {"Version", sdbus::Variant(std::string(RAIND_VERSION))},
            {"ApiVersion", sdbus::Variant(std::string("1"))},
            {"StorageRoot", sdbus::Variant(settings_.state_dir)},
            {"CgroupDriver", sdbus::Variant(settings_.cgroup_driver)},
            {"Runtime", sdbus::Variant(settings_.runtime_path)},
            {"Shim", sdbus::Variant(settings_.shim_path)},
        });
    });
}

} // namespace condenser
