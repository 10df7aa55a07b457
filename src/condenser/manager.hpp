// /org/raind/Condenser1: the Manager interface. Handlers only authorize, marshal and map errors;
// long ones run on worker threads (see authorized.hpp).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "activity.hpp"
#include "authority.hpp"
#include "authorized.hpp"
#include "containers.hpp"
#include "condenser1-adaptor.h"
#include "image_objects.hpp"
#include "jobs.hpp"
#include "loop.hpp"
#include "pull.hpp"
#include "store.hpp"

namespace condenser {

struct Settings {
    std::string state_dir;
    std::string run_dir = "/run/raind"; // runtime state: the shims' directories
    std::string runtime_path; // the OCI runtime condenser runs containers with
    std::string shim_path;    // droplet-shim
    std::string cgroup_driver = "systemd";
    std::string registries_conf = "/etc/raind/registries.conf";
};

class Manager final : public sdbus::AdaptorInterfaces<org::raind::Condenser1::Manager_adaptor> {
public:
    static constexpr const char* object_path = "/org/raind/Condenser1";

    Manager(sdbus::IConnection& connection, Loop& loop, Authority& authority, Activity& activity,
            raind::db::Database& database, const Settings& settings);
    ~Manager();

private:
    using ImageRow = sdbus::Struct<std::string, std::vector<std::string>, std::string, int64_t, uint64_t>;

    void Version(sdbus::Result<std::map<std::string, sdbus::Variant>>&& result) override;
    void PullImage(sdbus::Result<std::string, sdbus::ObjectPath>&& result, std::string reference,
                   std::map<std::string, sdbus::Variant> options) override;
    void PushImage(sdbus::Result<std::string>&& result, std::string image, std::string destination,
                   std::map<std::string, sdbus::Variant> options) override;
    void ListImages(sdbus::Result<std::vector<ImageRow>>&& result) override;
    void InspectImage(sdbus::Result<std::string>&& result, std::string image) override;
    void GetImage(sdbus::Result<sdbus::ObjectPath>&& result, std::string image) override;
    void TagImage(sdbus::Result<>&& result, std::string image, std::string name) override;
    void RemoveImage(sdbus::Result<std::vector<std::string>, std::vector<std::string>>&& result, std::string image,
                     bool force) override;
    void SaveImages(sdbus::Result<>&& result, std::vector<std::string> images, std::string format,
                    sdbus::UnixFd fd) override;
    void LoadImages(sdbus::Result<std::vector<std::string>>&& result, sdbus::UnixFd fd) override;
    void ListRegistryRepositories(sdbus::Result<std::vector<std::string>>&& result, std::string registry,
                                  std::map<std::string, sdbus::Variant> options) override;
    void ListRegistryTags(sdbus::Result<std::vector<std::string>>&& result, std::string repository,
                          std::map<std::string, sdbus::Variant> options) override;
    void CheckRegistryLogin(sdbus::Result<>&& result, std::string registry,
                            std::map<std::string, sdbus::Variant> options) override;
    void DeleteRegistryImage(sdbus::Result<>&& result, std::string reference,
                             std::map<std::string, sdbus::Variant> options) override;

    // Containers (container_methods.cpp).
    using Properties = std::map<std::string, sdbus::Variant>;
    void CreateContainer(sdbus::Result<std::string, sdbus::ObjectPath>&& result, std::string image,
                         std::vector<std::string> command, Properties options) override;
    void StartContainer(sdbus::Result<>&& result, std::string container) override;
    void StopContainer(sdbus::Result<>&& result, std::string container, uint32_t timeout_seconds) override;
    void KillContainer(sdbus::Result<>&& result, std::string container, std::string signal) override;
    void RemoveContainer(sdbus::Result<>&& result, std::string container, bool force) override;
    void WaitContainer(sdbus::Result<int32_t>&& result, std::string container) override;
    void ListContainers(sdbus::Result<std::vector<Properties>>&& result, bool all) override;
    void AttachContainer(sdbus::Result<sdbus::UnixFd, bool, std::vector<sdbus::UnixFd>>&& result,
                         std::string container) override;
    void GetContainer(sdbus::Result<sdbus::ObjectPath>&& result, std::string container) override;
    void PauseContainer(sdbus::Result<>&& result, std::string container) override;
    void UnpauseContainer(sdbus::Result<>&& result, std::string container) override;
    using ProcessRow = sdbus::Struct<uint32_t, uint32_t, uint32_t, std::string>;
    void TopContainer(sdbus::Result<std::vector<ProcessRow>>&& result, std::string container) override;
    void StatsContainer(sdbus::Result<std::map<std::string, uint64_t>>&& result, std::string container) override;
    void RenameContainer(sdbus::Result<>&& result, std::string container, std::string name) override;
    void ContainerLogs(sdbus::Result<sdbus::UnixFd>&& result, std::string container, Properties options) override;
    void ExecContainer(sdbus::Result<bool, std::vector<sdbus::UnixFd>, sdbus::UnixFd>&& result, std::string container,
                       std::vector<std::string> command, Properties options) override;

    template <typename... Results, typename Work>
    void manage_containers(sdbus::Result<Results...>&& result, std::map<std::string, std::string> details, Work work) {
        serve_authorized_async(getObject(), authority_, activity_, container_async_,
                               "org.raind.condenser.manage-containers", details, std::move(result), std::move(work));
    }

    template <typename... Results, typename Serve>
    void read(sdbus::Result<Results...>&& result, std::map<std::string, std::string> details, Serve serve) {
        serve_authorized(getObject(), authority_, activity_, "org.raind.condenser.read", details, std::move(result),
                         std::move(serve));
    }
    template <typename... Results, typename Work>
    void manage(sdbus::Result<Results...>&& result, std::map<std::string, std::string> details, Work work) {
        serve_authorized_async(getObject(), authority_, activity_, async_, "org.raind.condenser.manage-images",
                               details, std::move(result), std::move(work));
    }
    // Posts ImageProgress signals for `reference` to the loop thread, at most ~10 per second
    // for byte counts.
    std::function<void(const raind::images::TransferEvent&)> progress_for(const std::string& reference);

    Loop& loop_;
    Authority& authority_;
    Activity& activity_;
    const Settings& settings_;
    std::filesystem::path temp_dir_;
    raind::images::Store store_;
    ImageObjects image_objects_;
    Containers containers_;
    Jobs jobs_; // last: joined first, while everything its threads use still exists
    AsyncContext async_;
    AsyncContext container_async_;
};

} // namespace condenser
