// OCI mount options ("ro", "rbind", "rnosuid", "size=64m"…) turned into what the kernel takes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace droplet {

struct MountOptions {
    unsigned long flags = 0;       // MS_* to pass to mount(2) (MS_BIND/MS_REC included)
    unsigned long clear_flags = 0; // MS_* the options asked to turn off ("rw", "suid", "dev"…)
    std::vector<unsigned long> propagation; // MS_SHARED/MS_SLAVE/… (| MS_REC), applied in order
    uint64_t recursive_set = 0;    // MOUNT_ATTR_* from "rro", "rnosuid"… (mount_setattr AT_RECURSIVE)
    uint64_t recursive_clear = 0;
    bool atime_given = false;      // an atime option was written, so the atime mode is replaced
    bool tmpcopyup = false;        // copy the directory's image content into the new tmpfs
    std::string data;              // everything else, comma-joined, for the filesystem to judge

    bool is_bind() const;
    bool is_recursive_bind() const;
};

// Later options override earlier ones ("ro,rw" is rw). Throws raind::Error for options droplet
// recognises but refuses ("idmap": id-mapped mounts are not supported).
MountOptions parse_mount_options(const std::vector<std::string>& options);

// The rootfsPropagation values and the propagation options share one table.
// Returns 0 for a name that is not a propagation type.
unsigned long propagation_flags(const std::string& name);

} // namespace droplet
