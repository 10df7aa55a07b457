#include "mount_options.hpp"

#include <sys/mount.h>

#include <array>
#include <string_view>

#include "error.hpp"

namespace droplet {

namespace {

// The atime options form one mode, not independent bits: choosing one drops the others.
constexpr unsigned long atime_mask = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;

struct FlagOption {
    std::string_view name;
    bool clear; // the option turns the flag off ("rw" clears MS_RDONLY)
    unsigned long flag;
};

constexpr std::array flag_options{
    FlagOption{"defaults", false, 0},
    FlagOption{"ro", false, MS_RDONLY},
    FlagOption{"rw", true, MS_RDONLY},
    FlagOption{"nosuid", false, MS_NOSUID},
    FlagOption{"suid", true, MS_NOSUID},
    FlagOption{"nodev", false, MS_NODEV},
    FlagOption{"dev", true, MS_NODEV},
    FlagOption{"noexec", false, MS_NOEXEC},
    FlagOption{"exec", true, MS_NOEXEC},
    FlagOption{"sync", false, MS_SYNCHRONOUS},
    FlagOption{"async", true, MS_SYNCHRONOUS},
    FlagOption{"dirsync", false, MS_DIRSYNC},
    FlagOption{"remount", false, MS_REMOUNT},
    FlagOption{"mand", false, MS_MANDLOCK},
    FlagOption{"nomand", true, MS_MANDLOCK},
    FlagOption{"nodiratime", false, MS_NODIRATIME},
    FlagOption{"diratime", true, MS_NODIRATIME},
    FlagOption{"bind", false, MS_BIND},
    FlagOption{"rbind", false, MS_BIND | MS_REC},
    FlagOption{"silent", false, MS_SILENT},
    FlagOption{"loud", true, MS_SILENT},
    FlagOption{"iversion", false, MS_I_VERSION},
    FlagOption{"noiversion", true, MS_I_VERSION},
    FlagOption{"lazytime", false, MS_LAZYTIME},
    FlagOption{"nolazytime", true, MS_LAZYTIME},
    FlagOption{"nosymfollow", false, MS_NOSYMFOLLOW},
    FlagOption{"symfollow", true, MS_NOSYMFOLLOW},
};

struct AtimeOption {
    std::string_view name;
    unsigned long mode; // the MS_* atime mode this option selects (0: kernel default, relatime)
};

constexpr std::array atime_options{
    AtimeOption{"noatime", MS_NOATIME},
    AtimeOption{"atime", 0},
    AtimeOption{"relatime", MS_RELATIME},
    AtimeOption{"norelatime", MS_STRICTATIME},
    AtimeOption{"strictatime", MS_STRICTATIME},
    AtimeOption{"nostrictatime", MS_RELATIME},
};

struct RecursiveOption {
    std::string_view name;
    bool clear;
    uint64_t attr;
};

// mount_setattr(2) attributes for the recursive forms. The atime ones are a mode as well:
// the kernel wants the whole MOUNT_ATTR__ATIME mask cleared whenever one is set.
constexpr std::array recursive_options{
    RecursiveOption{"rro", false, MOUNT_ATTR_RDONLY},
    RecursiveOption{"rrw", true, MOUNT_ATTR_RDONLY},
    RecursiveOption{"rnosuid", false, MOUNT_ATTR_NOSUID},
    RecursiveOption{"rsuid", true, MOUNT_ATTR_NOSUID},
    RecursiveOption{"rnodev", false, MOUNT_ATTR_NODEV},
    RecursiveOption{"rdev", true, MOUNT_ATTR_NODEV},
    RecursiveOption{"rnoexec", false, MOUNT_ATTR_NOEXEC},
    RecursiveOption{"rexec", true, MOUNT_ATTR_NOEXEC},
    RecursiveOption{"rnodiratime", false, MOUNT_ATTR_NODIRATIME},
    RecursiveOption{"rdiratime", true, MOUNT_ATTR_NODIRATIME},
    RecursiveOption{"rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW},
    RecursiveOption{"rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW},
};

constexpr std::array recursive_atime_options{
    AtimeOption{"rnoatime", MOUNT_ATTR_NOATIME},
    AtimeOption{"ratime", MOUNT_ATTR_RELATIME},
    AtimeOption{"rrelatime", MOUNT_ATTR_RELATIME},
    AtimeOption{"rnorelatime", MOUNT_ATTR_STRICTATIME},
    AtimeOption{"rstrictatime", MOUNT_ATTR_STRICTATIME},
    AtimeOption{"rnostrictatime", MOUNT_ATTR_RELATIME},
};

struct PropagationOption {
    std::string_view name;
    unsigned long flags;
};

constexpr std::array propagation_options{
    PropagationOption{"private", MS_PRIVATE},
    PropagationOption{"rprivate", MS_PRIVATE | MS_REC},
    PropagationOption{"shared", MS_SHARED},
    PropagationOption{"rshared", MS_SHARED | MS_REC},
    PropagationOption{"slave", MS_SLAVE},
    PropagationOption{"rslave", MS_SLAVE | MS_REC},
    PropagationOption{"unbindable", MS_UNBINDABLE},
    PropagationOption{"runbindable", MS_UNBINDABLE | MS_REC},
};

template <typename Table>
auto find_option(const Table& table, std::string_view name) -> const typename Table::value_type* {
    for (const auto& entry : table)
        if (entry.name == name)
            return &entry;
    return nullptr;
}

void set_flag(MountOptions& result, unsigned long flag, bool clear) {
    if (clear) {
        result.flags &= ~flag;
        result.clear_flags |= flag;
    } else {
        result.flags |= flag;
        result.clear_flags &= ~flag;
    }
}

} // namespace

bool MountOptions::is_bind() const { return (flags & MS_BIND) != 0; }
bool MountOptions::is_recursive_bind() const { return (flags & (MS_BIND | MS_REC)) == (MS_BIND | MS_REC); }

unsigned long propagation_flags(const std::string& name) {
    const auto* entry = find_option(propagation_options, name);
    return entry ? entry->flags : 0;
}

MountOptions parse_mount_options(const std::vector<std::string>& options) {
    MountOptions result;
    for (const auto& option : options) {
        if (const auto* entry = find_option(flag_options, option)) {
            set_flag(result, entry->flag, entry->clear);
        } else if (const auto* atime = find_option(atime_options, option)) {
            result.flags = (result.flags & ~atime_mask) | atime->mode;
            result.clear_flags = (result.clear_flags | atime_mask) & ~atime->mode;
            result.atime_given = true;
        } else if (const auto* recursive = find_option(recursive_options, option)) {
            if (recursive->clear) {
                result.recursive_set &= ~recursive->attr;
                result.recursive_clear |= recursive->attr;
            } else {
                result.recursive_set |= recursive->attr;
                result.recursive_clear &= ~recursive->attr;
            }
        } else if (const auto* recursive_atime = find_option(recursive_atime_options, option)) {
            result.recursive_set = (result.recursive_set & ~uint64_t{MOUNT_ATTR__ATIME}) | recursive_atime->mode;
            result.recursive_clear |= MOUNT_ATTR__ATIME;
        } else if (const auto* propagation = find_option(propagation_options, option)) {
            result.propagation.push_back(propagation->flags);
        } else if (option == "tmpcopyup") {
            result.tmpcopyup = true;
        } else if (option == "idmap" || option == "ridmap") {
            throw raind::Error("option \"" + option + "\": id-mapped mounts are not supported by droplet");
        } else if (option.empty()) {
            throw raind::Error("empty mount option");
        } else {
            // Filesystem-specific ("size=64m", "mode=755", "newinstance"): the kernel decides.
            if (!result.data.empty())
                result.data += ',';
            result.data += option;
        }
    }
    return result;
}

} // namespace droplet
