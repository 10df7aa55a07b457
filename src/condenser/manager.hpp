// /org/raind/Condenser1: the Manager interface. Handlers only authorize, marshal and map errors.
#pragma once

#include <memory>
#include <string>

#include "activity.hpp"
#include "authority.hpp"
#include "condenser1-adaptor.h"

namespace condenser {

struct Settings {
    std::string state_dir;
    std::string runtime_path; // the OCI runtime condenser runs containers with
    std::string cgroup_driver = "systemd";
};

class Manager final : public sdbus::AdaptorInterfaces<org::raind::Condenser1::Manager_adaptor> {
public:
    static constexpr const char* object_path = "/org/raind/Condenser1";

    Manager(sdbus::IConnection& connection, Authority& authority, Activity& activity, const Settings& settings);
    ~Manager();

private:
    void Version(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result) override;

    Authority& authority_;
    Activity& activity_;
    const Settings& settings_;
};

} // namespace condenser
