#include "container_exec.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "container_spec.hpp"
#include "error.hpp"
#include "fd.hpp"

namespace condenser {
namespace {

template <typename T>
T value_of(const std::string& key, const sdbus::Variant& value, const char* type) {
    if (!value.containsValueOfType<T>())
        throw InvalidContainerArgument("exec option \"" + key + "\" must be of D-Bus type " + type + ", not " +
                                       value.peekValueType());
    return value.get<T>();
}

// Removes the process file once the runtime has read it.
class ProcessFile {
public:
    ProcessFile(const std::filesystem::path& dir, const std::string& content) {
        std::string pattern = (dir / "exec-XXXXXX").string();
        raind::UniqueFd fd(::mkstemp(pattern.data()));
        if (!fd)
            raind::throw_errno("create a process file in " + dir.string());
        path_ = pattern;
        for (size_t done = 0; done < content.size();) {
            ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                raind::throw_errno("write " + path_.string());
            done += static_cast<size_t>(n);
        }
    }
    ~ProcessFile() {
        std::error_code ignored;
        std::filesystem::remove(path_, ignored);
    }
    ProcessFile(const ProcessFile&) = delete;
    ProcessFile& operator=(const ProcessFile&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

} // namespace

ExecOptions parse_exec_options(const std::map<std::string, sdbus::Variant>& options) {
    ExecOptions parsed;
    for (const auto& [key, value] : options) {
        if (key == "tty")
            parsed.tty = value_of<bool>(key, value, "b");
        else if (key == "env")
            parsed.env = value_of<std::vector<std::string>>(key, value, "as");
        else if (key == "user")
            parsed.user = value_of<std::string>(key, value, "s");
        else if (key == "workdir")
            parsed.workdir = value_of<std::string>(key, value, "s");
        else
            throw InvalidContainerArgument("unknown or unsupported exec option \"" + key + "\"");
    }
    if (parsed.workdir && (parsed.workdir->empty() || (*parsed.workdir)[0] != '/'))
        throw InvalidContainerArgument("working directory \"" + *parsed.workdir + "\" is not an absolute path");
    return parsed;
}

shim::ExecSession exec_in_container(const ContainerPaths& paths, const std::vector<std::string>& command,
                                    const ExecOptions& options) {
    if (command.empty())
        throw InvalidContainerArgument("exec needs a command");
    std::ifstream in(paths.bundle / "config.json");
    auto spec = nlohmann::json::parse(in, nullptr, false);
    if (!spec.is_object() || !spec.contains("process"))
        throw raind::Error("cannot read " + (paths.bundle / "config.json").string());
    auto process = spec["process"];
    process["args"] = command;
    process["terminal"] = options.tty;
    process["env"] = container_env(process.value("env", std::vector<std::string>{}), options.env);
    if (options.user) {
        auto ids = resolve_user(*options.user, paths.bundle / "rootfs");
        process["user"] = {{"uid", ids.uid}, {"gid", ids.gid}};
    }
    if (options.workdir)
        process["cwd"] = *options.workdir;
    ProcessFile file(paths.shim, process.dump());
    return shim::exec(paths.shim.string(), file.path().string(), options.tty);
}

} // namespace condenser
