#include "container_objects.hpp"

#include <algorithm>

namespace condenser {
namespace {
constexpr const char* container_interface = org::raind::Condenser1::Container_adaptor::INTERFACE_NAME;
} // namespace

ContainerObject::ContainerObject(sdbus::IConnection& connection, std::string path, ContainerView view)
    : AdaptorInterfaces(connection, std::move(path)), view_(std::move(view)) {
    registerAdaptor();
}

ContainerObject::~ContainerObject() { unregisterAdaptor(); }

void ContainerObject::update(const ContainerView& view) {
    std::vector<std::string> changed;
    auto check = [&](bool differs, const char* name) {
        if (differs)
            changed.push_back(name);
    };
    check(view.record.name != view_.record.name, "Name");
    check(view.state != view_.state, "State");
    check(view.pid != view_.pid, "Pid");
    check(view.exit_code != view_.exit_code, "ExitCode");
    check(view.record.started != view_.record.started, "StartedAt");
    check(view.finished != view_.finished, "FinishedAt");
    check(view.record.labels != view_.record.labels, "Labels");
    view_ = view;
    if (!changed.empty())
        getObject().emitPropertiesChangedSignal(container_interface, changed);
}

std::map<std::string, sdbus::Variant> properties_of(const ContainerView& view) {
    const auto& r = view.record;
    return {
        {"Id", sdbus::Variant(r.id)},
        {"Name", sdbus::Variant(r.name)},
        {"Image", sdbus::Variant(r.image)},
        {"ImageId", sdbus::Variant(r.image_id)},
        {"Command", sdbus::Variant(r.command)},
        {"State", sdbus::Variant(view.state)},
        {"Pid", sdbus::Variant(view.pid)},
        {"ExitCode", sdbus::Variant(view.exit_code)},
        {"Unit", sdbus::Variant("raind-" + r.id + ".scope")},
        {"CreatedAt", sdbus::Variant(r.created)},
        {"StartedAt", sdbus::Variant(r.started)},
        {"FinishedAt", sdbus::Variant(view.finished)},
        {"Labels", sdbus::Variant(r.labels)},
        {"AutoRemove", sdbus::Variant(r.auto_remove)},
        {"RestartPolicy", sdbus::Variant(r.restart)},
        {"Tty", sdbus::Variant(r.tty)},
    };
}

ContainerObjects::~ContainerObjects() = default;

void ContainerObjects::put(const ContainerView& view) {
    auto found = objects_.find(view.record.id);
    if (found != objects_.end()) {
        found->second->update(view);
        return;
    }
    auto object = std::make_unique<ContainerObject>(connection_, path_of(view.record.id), view);
    object->announce();
    objects_.emplace(view.record.id, std::move(object));
}

void ContainerObjects::remove(const std::string& id) {
    auto found = objects_.find(id);
    if (found == objects_.end())
        return;
    found->second->withdraw();
    objects_.erase(found);
}

const ContainerView* ContainerObjects::find(const std::string& id_or_name) const {
    if (auto exact = objects_.find(id_or_name); exact != objects_.end())
        return &exact->second->view();
    const ContainerView* by_prefix = nullptr;
    size_t prefix_matches = 0;
    for (const auto& [id, object] : objects_) {
        if (object->view().record.name == id_or_name)
            return &object->view();
        if (!id_or_name.empty() && id.rfind(id_or_name, 0) == 0) {
            by_prefix = &object->view();
            ++prefix_matches;
        }
    }
    return prefix_matches == 1 ? by_prefix : nullptr;
}

std::vector<const ContainerView*> ContainerObjects::all() const {
    std::vector<const ContainerView*> views;
    for (const auto& [id, object] : objects_)
        views.push_back(&object->view());
    std::sort(views.begin(), views.end(), [](auto* a, auto* b) { return a->record.created < b->record.created; });
    return views;
}

} // namespace condenser
