// raind save / load: docker-save tarballs through a file descriptor passed to condenser, so the
// daemon never opens a path with its own privileges on the caller's behalf.
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>

#include "client.hpp"
#include "commands.hpp"
#include "error.hpp"
#include "fd.hpp"

namespace raind::cli {

void add_archive(CLI::App& app) {
    auto* save = app.add_subcommand("save", "Write images to a tarball docker load reads");
    auto names = std::make_shared<std::vector<std::string>>();
    auto output = std::make_shared<std::string>();
    save->add_option("image", *names, "image names or ids")->required();
    save->add_option("-o,--output", *output, "file to write (default: standard output, if not a terminal)");
    set_action(*save, [=] {
        int fd = STDOUT_FILENO;
        raind::UniqueFd file;
        if (!output->empty()) {
            file.reset(::open(output->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
            if (!file)
                raind::throw_errno("open " + *output);
            fd = file.get();
        } else if (::isatty(STDOUT_FILENO)) {
            std::fprintf(stderr, "raind: refusing to write a tarball to a terminal; use -o FILE or a redirect\n");
            return 2;
        }
        Client client;
        client.watch_signals();
        client.manager().call_long("SaveImages", *names, std::string("docker-archive"), sdbus::UnixFd(fd));
        return 0;
    });

    auto* load = app.add_subcommand("load", "Read images from a docker-save tarball");
    auto input = std::make_shared<std::string>();
    load->add_option("-i,--input", *input, "file to read (default: standard input)");
    set_action(*load, [=] {
        int fd = STDIN_FILENO;
        raind::UniqueFd file;
        if (!input->empty()) {
            file.reset(::open(input->c_str(), O_RDONLY | O_CLOEXEC));
            if (!file)
                raind::throw_errno("open " + *input);
            fd = file.get();
        }
        Client client;
        client.watch_signals();
        std::vector<std::string> loaded;
        auto reply = client.manager().call_long("LoadImages", sdbus::UnixFd(fd));
        reply >> loaded;
        for (const auto& name : loaded)
            std::printf("Loaded image: %s\n", name.c_str());
        return 0;
    });
}

} // namespace raind::cli
