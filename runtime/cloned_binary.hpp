// CVE-2019-5736: a container process must never be able to open the droplet binary for
// writing through /proc/<pid>/exe. Commands that start container processes run from a sealed
// memfd copy of the binary, so the only file a container could reach is that immutable copy.
#pragma once

namespace droplet {

// True when /proc/self/exe is a memfd with write/grow/shrink sealed.
bool running_from_sealed_copy();

// Re-executes from a sealed memfd copy unless already running from one. Returns only when
// already sealed; throws when the copy cannot be made.
void ensure_cloned_binary(char** argv, char** envp);

} // namespace droplet
