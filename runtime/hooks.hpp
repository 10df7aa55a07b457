// OCI hooks: each runs with the container state on stdin, its own args and env, and an
// optional timeout after which it is killed.
#pragma once

#include <string>
#include <vector>

#include "spec.hpp"

namespace droplet {

// Runs the hooks in order; the first failure throws "<kind> hook [i] <path>: <why>".
void run_hooks(const std::vector<Hook>& hooks, const char* kind, const std::string& state_json);

// For poststart and poststop, whose failures the spec says are only warnings.
void run_hooks_warn(const std::vector<Hook>& hooks, const char* kind, const std::string& state_json) noexcept;

} // namespace droplet
