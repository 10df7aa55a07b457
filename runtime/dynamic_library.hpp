// Libraries droplet opens only when a container needs them (libseccomp, libsystemd, libmount):
// linking them would map them and what they pull in into every droplet start, which
// bench/runtime-start holds to crun's peak RSS.
#pragma once

#include <dlfcn.h>

#include <string>
#include <utility>

#include "error.hpp"

namespace droplet {

class DynamicLibrary {
public:
    // `purpose` prefixes errors, e.g. "linux.seccomp" or "--systemd-cgroup". Never closed: the
    // functions stay in use until droplet exits.
    DynamicLibrary(const char* soname, std::string purpose) : soname_(soname), purpose_(std::move(purpose)) {
        handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!handle_)
            throw raind::Error(purpose_ + ": cannot load " + soname_ + ": " + ::dlerror());
    }

    template <typename F>
    void bind(const char* name, F& slot) const {
        slot = reinterpret_cast<F>(::dlsym(handle_, name));
        if (!slot)
            throw raind::Error(purpose_ + ": " + soname_ + " lacks " + name);
    }

private:
    void* handle_ = nullptr;
    std::string soname_;
    std::string purpose_;
};

} // namespace droplet
