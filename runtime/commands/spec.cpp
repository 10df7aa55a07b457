#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "error.hpp"
#include "file_util.hpp"
#include "fd.hpp"
#include "spec.hpp"

namespace droplet {

Command add_spec(CLI::App& parent, const GlobalOptions&) {
    auto* app = parent.add_subcommand("spec", "write a default config.json into the bundle");
    auto bundle = std::make_shared<std::string>(".");
    auto rootless = std::make_shared<bool>(false);
    app->add_option("-b,--bundle", *bundle, "bundle directory (default: the current directory)");
    app->add_flag("--rootless", *rootless, "a spec for a container run without root");
    return {app, [bundle, rootless] {
                std::string path = *bundle + "/config.json";
                raind::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
                if (!fd) {
                    if (errno == EEXIST)
                        throw raind::Error(path + " already exists; remove it first");
                    raind::throw_errno("create " + path);
                }
                std::string text = default_spec(*rootless).dump(4) + "\n";
                if (!write_all(fd.get(), text.data(), text.size()))
                    raind::throw_errno("write " + path);
                return 0;
            }};
}

} // namespace droplet
