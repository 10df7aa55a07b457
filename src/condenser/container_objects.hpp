// One D-Bus object per container, /org/raind/Condenser1/container/<id>, announced through the
// root's ObjectManager, with PropertiesChanged whenever what a client sees changes. Loop
// thread only.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "condenser1-adaptor.h"
#include "container_records.hpp"

namespace condenser {

// A container as clients see it: its record plus what its shim reported.
struct ContainerView {
    ContainerRecord record;
    std::string state = "created"; // created, running, exited, removing
    uint32_t pid = 0;
    int32_t exit_code = -1;
    int64_t finished = 0;
};

class ContainerObject final : public sdbus::AdaptorInterfaces<org::raind::Condenser1::Container_adaptor> {
public:
    ContainerObject(sdbus::IConnection& connection, std::string path, ContainerView view);
    ~ContainerObject();
    const ContainerView& view() const { return view_; }
    void update(const ContainerView& view); // emits PropertiesChanged for what changed
    void announce() { getObject().emitInterfacesAddedSignal({INTERFACE_NAME}); }
    void withdraw() { getObject().emitInterfacesRemovedSignal({INTERFACE_NAME}); }

private:
    std::string Id() override { return view_.record.id; }
    std::string Name() override { return view_.record.name; }
    std::string Image() override { return view_.record.image; }
    std::string ImageId() override { return view_.record.image_id; }
    std::vector<std::string> Command() override { return view_.record.command; }
    std::string State() override { return view_.state; }
    uint32_t Pid() override { return view_.pid; }
    int32_t ExitCode() override { return view_.exit_code; }
    std::string Unit() override { return "raind-" + view_.record.id + ".scope"; }
    int64_t CreatedAt() override { return view_.record.created; }
    int64_t StartedAt() override { return view_.record.started; }
    int64_t FinishedAt() override { return view_.finished; }
    std::map<std::string, std::string> Labels() override { return view_.record.labels; }
    bool AutoRemove() override { return view_.record.auto_remove; }
    std::string RestartPolicy() override { return view_.record.restart; }
    bool Tty() override { return view_.record.tty; }

    ContainerView view_;
};

// The property values of a view as a{sv} (ListContainers).
std::map<std::string, sdbus::Variant> properties_of(const ContainerView& view);

class ContainerObjects {
public:
    explicit ContainerObjects(sdbus::IConnection& connection) : connection_(connection) {}
    ~ContainerObjects();

    static std::string path_of(const std::string& id) { return "/org/raind/Condenser1/container/" + id; }

    // Adds the object, or updates it when it exists.
    void put(const ContainerView& view);
    void remove(const std::string& id);
    // By id, unique id prefix or name; nullptr when none.
    const ContainerView* find(const std::string& id_or_name) const;
    std::vector<const ContainerView*> all() const;

private:
    sdbus::IConnection& connection_;
    std::map<std::string, std::unique_ptr<ContainerObject>> objects_; // by id
};

} // namespace condenser
