// Capability sets (bounding, effective, permitted, inheritable, ambient) by name, via capset(2).
#pragma once

#include <string>

#include "spec.hpp"

namespace droplet {

// Throws naming an unknown capability ("process.capabilities.bounding: unknown capability CAP_FOO").
void check_capability_names(const Capabilities& caps);

// Drops everything outside the bounding set. Before the uid change (needs CAP_SETPCAP).
void apply_bounding_set(const Capabilities& caps);
// Sets effective/permitted/inheritable, then raises the ambient ones. After the uid change.
void apply_capability_sets(const Capabilities& caps);

} // namespace droplet
