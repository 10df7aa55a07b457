// raind create / run: a container from an image. `run` attaches before it starts the
// container (no output is missed), relays the terminal, and exits with the container's status.
#include <cstdio>

#include "attach.hpp"
#include "client.hpp"
#include "commands.hpp"
#include "container_flags.hpp"
#include "registry_options.hpp"

namespace raind::cli {

void pull_image(Client& client, const std::string& reference);

namespace {

// Docker's convention: the container's own status, 125 when raind itself failed.
constexpr int exit_run_failed = 125;

// Creates the container, pulling its image first when it is not there (--pull missing).
std::string create(Client& client, const ContainerFlags& flags, const std::string& pull) {
    auto options = container_options(flags);
    auto call = [&] {
        std::string id;
        sdbus::ObjectPath path;
        auto reply = client.manager().call_long("CreateContainer", flags.image, flags.command, options);
        reply >> id >> path;
        return id;
    };
    if (pull == "always")
        pull_image(client, flags.image);
    try {
        return call();
    } catch (const sdbus::Error& e) {
        if (pull != "missing" || e.getName() != "org.raind.Condenser1.Error.NoSuchImage")
            throw;
    }
    pull_image(client, flags.image);
    return call();
}

int run(const ContainerFlags& flags, bool detach) {
    block_relay_signals();
    Client client;
    client.watch_signals();
    std::string id = create(client, flags, flags.pull);
    if (detach) {
        client.manager().call_long("StartContainer", id);
        std::printf("%s\n", id.c_str());
        return 0;
    }
    Attachment attachment = attach(client, id);
    auto status = client.manager().wait_async(id); // before start: a quick exit is not missed
    client.manager().call_long("StartContainer", id);
    relay(attachment, flags.interactive, [&client, &id](int signal) {
        try {
            client.manager().KillContainer(id, std::to_string(signal));
        } catch (const sdbus::Error&) {
            // It has just exited: nothing to pass the signal to.
        }
    });
    return status.get();
}

} // namespace

void pull_image(Client& client, const std::string& reference) {
    std::fprintf(stderr, "Pulling %s\n", reference.c_str());
    std::string id;
    sdbus::ObjectPath path;
    auto reply = client.manager().call_long("PullImage", reference,
                                            registry_call_options(registry_of(reference), RegistryFlags{}));
    reply >> id >> path;
}

void add_create(CLI::App& app) {
    auto* command = app.add_subcommand("create", "Create a container from an image without starting it: raind create [OPTIONS] IMAGE [COMMAND...]");
    auto flags = add_container_flags(*command);
    set_action(*command, [=] {
        take_image_and_command(*command, *flags);
        Client client;
        client.watch_signals();
        std::printf("%s\n", create(client, *flags, flags->pull).c_str());
        return 0;
    });
}

void add_run(CLI::App& app) {
    auto* command = app.add_subcommand(
        "run", "Run a command in a new container: raind run [OPTIONS] IMAGE [COMMAND...]; exits with its status (125: raind failed)");
    auto flags = add_container_flags(*command);
    auto detach = std::make_shared<bool>(false);
    command->add_flag("-d,--detach", *detach, "start it in the background and print its id");
    set_action(*command, [=] {
        take_image_and_command(*command, *flags);
        try {
            return run(*flags, *detach);
        } catch (const sdbus::Error& e) {
            std::fprintf(stderr, "raind: %s\n", describe(e).c_str());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "raind: %s\n", e.what());
        }
        return exit_run_failed;
    });
}

} // namespace raind::cli
