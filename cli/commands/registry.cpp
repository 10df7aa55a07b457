// raind registry ls|tags|rm: a registry's catalog, a repository's tags, deleting a manifest.
#include <cstdio>

#include "client.hpp"
#include "commands.hpp"
#include "registry_options.hpp"

namespace raind::cli {

void add_registry(CLI::App& app) {
    auto* registry = app.add_subcommand("registry", "Look into and clean up a registry");
    registry->require_subcommand(1);
    auto flags = std::make_shared<RegistryFlags>();
    auto add_flags = [flags](CLI::App* command) {
        command->add_option("--tls-verify", flags->tls_verify, "verify TLS and require HTTPS")->default_str("true");
        command->add_option("--authfile", flags->authfile, "credentials file (default: see raind login)");
    };

    auto* ls = registry->add_subcommand("ls", "List a registry's repositories");
    auto host = std::make_shared<std::string>();
    ls->add_option("registry", *host, "registry, e.g. 127.0.0.1:5000")->required();
    add_flags(ls);
    set_action(*ls, [=] {
        Client client;
        client.watch_signals();
        std::vector<std::string> repositories;
        auto reply = client.manager().call_long("ListRegistryRepositories", *host, registry_call_options(*host, *flags));
        reply >> repositories;
        for (const auto& repository : repositories)
            std::printf("%s\n", repository.c_str());
        return 0;
    });

    auto* tags = registry->add_subcommand("tags", "List a repository's tags");
    auto repository = std::make_shared<std::string>();
    tags->add_option("repository", *repository, "repository, e.g. 127.0.0.1:5000/library/busybox")->required();
    add_flags(tags);
    set_action(*tags, [=] {
        Client client;
        client.watch_signals();
        std::vector<std::string> names;
        auto reply = client.manager().call_long("ListRegistryTags", *repository,
                                   registry_call_options(registry_of(*repository), *flags));
        reply >> names;
        for (const auto& tag : names)
            std::printf("%s\n", tag.c_str());
        return 0;
    });

    auto* rm = registry->add_subcommand("rm", "Delete an image's manifest from a registry");
    auto reference = std::make_shared<std::string>();
    rm->add_option("image", *reference, "reference, e.g. 127.0.0.1:5000/me/app:1")->required();
    add_flags(rm);
    set_action(*rm, [=] {
        Client client;
        client.watch_signals();
        client.manager().call_long("DeleteRegistryImage", *reference,
                                   registry_call_options(registry_of(*reference), *flags));
        std::printf("Deleted %s\n", reference->c_str());
        return 0;
    });
}

} // namespace raind::cli
