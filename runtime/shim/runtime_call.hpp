// Running the OCI runtime (droplet, crun or runc) with the runc command line.
#pragma once

#include <string>
#include <vector>

namespace shim {

struct Runtime {
    std::string path;
    std::vector<std::string> global_args; // before the verb, e.g. --root DIR
    bool systemd_cgroup = false;
};

struct RuntimeResult {
    int status = -1;   // exit code, 128+N for a signal
    std::string error; // what it printed (stderr and stdout when not redirected), trimmed
};

// Runs `<runtime> [global args] <args…>` and waits for it. stdin_fd/stdout_fd/stderr_fd
// become its stdio when >= 0; otherwise stdin is /dev/null and stdout/stderr are captured
// into `error`. The child starts with no blocked signals.
RuntimeResult run_runtime(const Runtime& runtime, const std::vector<std::string>& args, int stdin_fd = -1,
                          int stdout_fd = -1, int stderr_fd = -1);

} // namespace shim
