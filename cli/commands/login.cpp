// raind login / logout. The daemon checks the credentials (with the TLS and insecure settings
// its pulls use, so a login that works here works for pulls); the CLI keeps them in the
// caller's own auth file and sends them with each call, so one user's login is never another's.
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "auth.hpp"
#include "client.hpp"
#include "commands.hpp"
#include "registry_options.hpp"

namespace raind::cli {

void add_login(CLI::App& app) {
    auto* login = app.add_subcommand("login", "Check credentials with a registry and store them");
    auto registry = std::make_shared<std::string>();
    auto username = std::make_shared<std::string>();
    auto password = std::make_shared<std::string>();
    auto password_stdin = std::make_shared<bool>(false);
    auto flags = std::make_shared<RegistryFlags>();
    login->add_option("registry", *registry, "registry, e.g. 127.0.0.1:5443")->required();
    login->add_option("-u,--username", *username, "user name")->required();
    login->add_option("-p,--password", *password, "password (prefer --password-stdin)");
    login->add_flag("--password-stdin", *password_stdin, "read the password from standard input");
    login->add_option("--tls-verify", flags->tls_verify, "verify TLS and require HTTPS")->default_str("true");
    login->add_option("--authfile", flags->authfile, "credentials file to write");
    set_action(*login, [=] {
        std::string secret = *password;
        if (*password_stdin && !std::getline(std::cin, secret))
            throw std::runtime_error("no password on standard input");
        if (secret.empty())
            throw std::runtime_error("a password is needed: --password-stdin or -p");
        auto options = registry_call_options(*registry, *flags);
        options["auth"] = sdbus::Variant(images::base64_encode(*username + ":" + secret));
        Client client;
        client.manager().CheckRegistryLogin(*registry, options);
        auto file = auth_file_path(flags->authfile);
        std::filesystem::create_directories(file.parent_path());
        images::AuthFile(file).set(*registry, {*username, secret});
        std::printf("Login Succeeded\n");
        return 0;
    });

    auto* logout = app.add_subcommand("logout", "Forget the credentials stored for a registry");
    auto out_registry = std::make_shared<std::string>();
    auto out_file = std::make_shared<std::string>();
    logout->add_option("registry", *out_registry, "registry")->required();
    logout->add_option("--authfile", *out_file, "credentials file");
    set_action(*logout, [=] {
        if (!images::AuthFile(auth_file_path(*out_file)).erase(*out_registry)) {
            std::fprintf(stderr, "raind: not logged in to %s\n", out_registry->c_str());
            return 1;
        }
        std::printf("Removed login credentials for %s\n", out_registry->c_str());
        return 0;
    });
}

} // namespace raind::cli
