#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>

#include "error.hpp"
#include "fd.hpp"

using raind::SystemError;
using raind::UniqueFd;

TEST(SystemError, NamesWhatFailedAndWhy) {
    try {
        raind::throw_errno("open /nonexistent", ENOENT);
        FAIL() << "no exception";
    } catch (const SystemError& e) {
        EXPECT_EQ(e.code(), ENOENT);
        EXPECT_STREQ(e.what(), "open /nonexistent: No such file or directory");
    }
}

TEST(UniqueFd, ClosesOnceWhenDestroyedOrReset) {
    int raw = -1;
    {
        UniqueFd fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        ASSERT_TRUE(fd);
        raw = fd.get();
        UniqueFd moved = std::move(fd);
        EXPECT_FALSE(fd);
        EXPECT_EQ(moved.get(), raw);
    }
    EXPECT_EQ(::fcntl(raw, F_GETFD), -1);
    EXPECT_EQ(errno, EBADF);
}
