#include "cloned_binary.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"
#include "fd.hpp"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

namespace droplet {
namespace {

constexpr int required_seals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

} // namespace

bool running_from_sealed_copy() {
    raind::UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!exe)
        return false;
    int seals = ::fcntl(exe.get(), F_GET_SEALS);
    return seals >= 0 && (seals & required_seals) == required_seals;
}

void ensure_cloned_binary(char** argv, char** envp) {
    raind::UniqueFd exe(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    if (!exe)
        raind::throw_errno("open /proc/self/exe to copy the droplet binary");
    int seals = ::fcntl(exe.get(), F_GET_SEALS);
    if (seals >= 0 && (seals & required_seals) == required_seals)
        return;
    // MFD_EXEC keeps newer kernels (vm.memfd_noexec) from refusing or warning; older ones
    // do not know the flag.
    raind::UniqueFd copy(::memfd_create("droplet", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC));
    if (!copy && errno == EINVAL)
        copy.reset(::memfd_create("droplet", MFD_CLOEXEC | MFD_ALLOW_SEALING));
    if (!copy)
        raind::throw_errno("memfd_create for the sealed droplet copy");
    struct stat st{};
    if (::fstat(exe.get(), &st) < 0)
        raind::throw_errno("stat /proc/self/exe");
    off_t offset = 0;
    while (offset < st.st_size) {
        ssize_t n = ::sendfile(copy.get(), exe.get(), &offset, static_cast<size_t>(st.st_size - offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            raind::throw_errno("copy the droplet binary into a memfd");
    }
    if (::fcntl(copy.get(), F_ADD_SEALS, required_seals) < 0)
        raind::throw_errno("seal the droplet memfd");
    exe.reset();
    ::fexecve(copy.get(), argv, envp);
    raind::throw_errno("re-execute droplet from its sealed copy");
}

} // namespace droplet
