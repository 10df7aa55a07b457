// main() of every integration test: they only mean something inside a raind sandbox
// (tests/env), where systemd, the system bus and polkitd are the real ones and the
// built stack is installed. Run elsewhere, say so instead of failing obscurely.
#include <gtest/gtest.h>
#include <systemd/sd-daemon.h>

#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    if (!std::getenv("RAIND_SANDBOX") || sd_booted() <= 0) {
        std::fprintf(stderr, "%s: integration tests run inside a raind sandbox: use `meson test --suite integration` "
                             "or tests/env/run-test BUILD_DIR %s\n", argv[0], argv[0]);
        return 1;
    }
    return RUN_ALL_TESTS();
}
