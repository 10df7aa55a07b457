// Prints linux.seccomp of condenser's config.json for a default container (Docker's
// capabilities, no options), for bench/seccomp-start to put into its bundle.
#include <iostream>

#include "container_options.hpp"
#include "container_spec.hpp"

int main() {
    raind::images::ImageConfig image;
    image.cmd = {"true"};
    auto spec = condenser::container_spec(image, {std::string(64, '0'), {}, {}, "/nonexistent"});
    condenser::apply_to_spec(spec, {});
    std::cout << spec["linux"]["seccomp"].dump() << "\n";
}
