// Compiled seccomp programs kept by profile text. libseccomp needs tens of milliseconds to
// generate BPF for the three x86 ABIs that podman and docker profiles list — the same profile
// for every container — so droplet keeps the result under its state root (0700, tmpfs).
#pragma once

#include <linux/filter.h>

#include <optional>
#include <string>
#include <vector>

namespace droplet {

// The program compiled earlier from exactly this profile text by this droplet and libseccomp,
// or nothing (no entry, another profile with the same hash, an unreadable or short file).
std::optional<std::vector<sock_filter>> load_cached_program(const std::string& dir, const std::string& profile);

// Best effort: a cache that cannot be written only costs the next compile.
void store_cached_program(const std::string& dir, const std::string& profile,
                          const std::vector<sock_filter>& program) noexcept;

} // namespace droplet
