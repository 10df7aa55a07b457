// linux.sysctl: kernel parameters written in the container's own namespaces.
#pragma once

#include <string>
#include <vector>

#include "spec.hpp"

namespace droplet {

// "net.ipv4.ip_forward" -> {"net", "ipv4", "ip_forward"}; a key with "/" keeps its dots
// ("net/ipv4/conf/eth0.1/forwarding"). Throws raind::Error for empty, "." or ".." components.
std::vector<std::string> sysctl_components(const std::string& key);

// Refuses keys the container's namespaces do not isolate: writing them would change the host.
// Throws raind::Error naming the key ("config.json: linux.sysctl \"vm.swappiness\": …").
void validate_sysctls(const Spec& spec);

// Writes each value below /proc/sys (run after pivot_root, in the container's namespaces).
void apply_sysctls(const Spec& spec);

} // namespace droplet
