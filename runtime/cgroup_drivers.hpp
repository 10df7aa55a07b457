// The driver implementations behind make_cgroup_manager(); only cgroup.cpp picks among them.
#pragma once

#include <memory>
#include <string>

#include "cgroup.hpp"

namespace droplet {

std::unique_ptr<CgroupManager> make_fs_cgroup(const std::string& cgroups_path, const std::string& id,
                                              const CgroupResources& resources);
std::unique_ptr<CgroupManager> open_fs_cgroup(const CgroupRecord& record);

std::unique_ptr<CgroupManager> make_systemd_cgroup(const SystemdCgroupsPath& path, const std::string& id,
                                                   const CgroupResources& resources);
std::unique_ptr<CgroupManager> open_systemd_cgroup(const CgroupRecord& record);

std::unique_ptr<CgroupManager> make_disabled_cgroup();

// cgroup v2 file writes shared by the cgroupfs driver and the systemd driver's leftovers:
// each controller must be listed in the directory's cgroup.controllers, or the error names it.
void write_cgroup_files(const std::string& directory, const std::vector<CgroupFileWrite>& files);

// Replaces the eBPF device program droplet attached to `directory` (BPF_CGROUP_DEVICE) with one
// built from these rules. Empty rules: nothing is attached.
void apply_device_rules(const std::string& directory, const std::vector<DeviceRule>& rules);

} // namespace droplet
