// raind push: upload a local image; one line per blob, then the manifest digest.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"
#include "registry_options.hpp"

namespace raind::cli {

void add_push(CLI::App& app) {
    auto* command = app.add_subcommand("push", "Push an image to a registry");
    auto image = std::make_shared<std::string>();
    auto destination = std::make_shared<std::string>();
    auto flags = std::make_shared<RegistryFlags>();
    command->add_option("image", *image, "local image name or id")->required();
    command->add_option("destination", *destination, "where to push (default: the image's name)");
    command->add_option("--tls-verify", flags->tls_verify, "verify TLS and require HTTPS (false allows plain HTTP)")
        ->default_str("true");
    command->add_option("--authfile", flags->authfile, "credentials file (default: see raind login)");
    set_action(*command, [=] {
        std::string dest = destination->empty() ? *image : *destination;
        Client client;
        client.manager().on_progress([dest](const std::string& ref, const std::string& event,
                                            const std::string& digest, uint64_t, uint64_t) {
            if (ref != dest || event == "blob-progress" || event == "blob-started" || event == "done")
                return;
            std::printf("%s: %s\n", digest.substr(7, 12).c_str(), event.c_str());
            std::fflush(stdout);
        });
        client.watch_signals();
        std::string digest;
        auto reply = client.manager().call_long("PushImage", *image, dest, registry_call_options(registry_of(dest), *flags));
        reply >> digest;
        std::printf("pushed %s: %s\n", dest.c_str(), digest.c_str());
        return 0;
    });
}

} // namespace raind::cli
