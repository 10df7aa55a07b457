// Capability sets (bounding, effective, permitted, inheritable, ambient) by name, via capset(2).
#pragma once

#include <string>

#include "spec.hpp"

namespace droplet {

// Before anything is created: warns about unknown names and skips them (as runc and crun do), and
// throws naming a capability droplet itself lacks, which the container could never get
// ("process.capabilities.permitted: CAP_SYS_RESOURCE cannot be granted: …"). With a new user
// namespace the container's root holds every capability there, so only names are checked.
void check_capabilities(const Capabilities& caps, bool new_user_namespace);

// Drops everything outside the bounding set. Before the uid change (needs CAP_SETPCAP).
void apply_bounding_set(const Capabilities& caps);
// Sets effective/permitted/inheritable, then raises the ambient ones. After the uid change.
void apply_capability_sets(const Capabilities& caps);

} // namespace droplet
