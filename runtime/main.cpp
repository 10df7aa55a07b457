#include <cstdio>
#include <cstring>

#include "raind-config.h"

int main(int argc, char** argv) {
    if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
        std::printf("droplet version %s\n", RAIND_VERSION);
        return 0;
    }
    std::fprintf(stderr, "droplet: not implemented yet\n");
    return 1;
}
