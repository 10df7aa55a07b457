// raind::send_with_fds / receive_with_fds over a real socketpair: bytes and descriptors arrive
// together, close-on-exec; surplus and truncated descriptors never stay open.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "error.hpp"
#include "fd.hpp"
#include "fd_passing.hpp"

namespace {

struct SocketPair {
    raind::UniqueFd a, b;
    SocketPair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
            raind::throw_errno("socketpair");
        a.reset(fds[0]);
        b.reset(fds[1]);
    }
};

size_t open_fd_count() {
    size_t n = 0;
    DIR* d = ::opendir("/proc/self/fd");
    while (dirent* e = ::readdir(d))
        n += e->d_name[0] != '.';
    ::closedir(d);
    return n - 1; // the directory's own fd
}

ino_t inode(int fd) {
    struct stat st{};
    EXPECT_EQ(::fstat(fd, &st), 0);
    return st.st_ino;
}

// Opens `count` different files (pipes' read ends), kept by the test.
std::vector<raind::UniqueFd> make_fds(size_t count) {
    std::vector<raind::UniqueFd> fds;
    for (size_t i = 0; i < count; ++i) {
        int p[2];
        EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
        fds.emplace_back(p[0]);
        ::close(p[1]);
    }
    return fds;
}

TEST(ReceiveWithFds, BytesAndDescriptorsArriveTogetherCloseOnExec) {
    SocketPair s;
    auto files = make_fds(2);
    int sent[] = {files[0].get(), files[1].get()};
    ASSERT_EQ(raind::send_with_fds(s.a.get(), "hello", 5, sent), 5);

    std::array<char, 64> buf{};
    raind::Received r = raind::receive_with_fds(s.b.get(), buf, 2, "receive the test message");
    EXPECT_EQ(std::string(buf.data(), r.size), "hello");
    ASSERT_EQ(r.fds.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        EXPECT_NE(r.fds[i].get(), sent[i]); // a new descriptor…
        EXPECT_EQ(inode(r.fds[i].get()), inode(sent[i])); // …for the same file, in order
        EXPECT_EQ(::fcntl(r.fds[i].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    }
}

TEST(ReceiveWithFds, DescriptorsBeyondWhatTheCallerKeepsAreClosed) {
    SocketPair s;
    auto files = make_fds(3);
    int sent[] = {files[0].get(), files[1].get(), files[2].get()};
    size_t before = open_fd_count();
    ASSERT_EQ(raind::send_with_fds(s.a.get(), "x", 1, sent), 1);
    std::array<char, 8> buf{};
    raind::Received r = raind::receive_with_fds(s.b.get(), buf, 1, "receive");
    ASSERT_EQ(r.fds.size(), 1u);
    EXPECT_EQ(inode(r.fds[0].get()), inode(sent[0]));
    EXPECT_EQ(open_fd_count(), before + 1);
}

TEST(ReceiveWithFds, TheEndOfTheStreamIsSizeZero) {
    SocketPair s;
    s.a.reset();
    std::array<char, 8> buf{};
    raind::Received r = raind::receive_with_fds(s.b.get(), buf, 1, "receive");
    EXPECT_EQ(r.size, 0u);
    EXPECT_TRUE(r.fds.empty());
}

TEST(ReceiveWithFds, TruncatedDescriptorsAreAnErrorAndNoneStayOpen) {
    SocketPair s;
    constexpr size_t too_many = raind::max_passed_fds + 1;
    auto files = make_fds(too_many);
    // send_with_fds refuses that many; a peer that is not ours may still send them.
    int sent[too_many];
    for (size_t i = 0; i < too_many; ++i)
        sent[i] = files[i].get();
    char byte = 'x';
    iovec iov{&byte, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof sent)]{};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof sent);
    std::memcpy(CMSG_DATA(c), sent, sizeof sent);
    ASSERT_EQ(::sendmsg(s.a.get(), &msg, 0), 1);

    size_t before = open_fd_count();
    std::array<char, 8> buf{};
    try {
        raind::receive_with_fds(s.b.get(), buf, raind::max_passed_fds, "receive from the peer");
        FAIL() << "a truncated message was accepted";
    } catch (const raind::Error& e) {
        EXPECT_NE(std::string(e.what()).find("receive from the peer"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("MSG_CTRUNC"), std::string::npos) << e.what();
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(ReceiveWithFds, ASeqpacketMessageLongerThanTheBufferIsAnError) {
    int p[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p), 0);
    raind::UniqueFd a(p[0]), b(p[1]);
    auto files = make_fds(1);
    int sent = files[0].get();
    size_t before = open_fd_count();
    ASSERT_EQ(raind::send_with_fds(a.get(), "0123456789", 10, {&sent, 1}), 10);
    std::array<char, 4> buf{};
    try {
        raind::receive_with_fds(b.get(), buf, 1, "receive from the container init");
        FAIL() << "a cut message was accepted";
    } catch (const raind::Error& e) {
        EXPECT_NE(std::string(e.what()).find("MSG_TRUNC"), std::string::npos) << e.what();
    }
    EXPECT_EQ(open_fd_count(), before);
}

TEST(ReceiveWithFds, AFailedRecvmsgNamesWhatAndKeepsErrno) {
    raind::UniqueFd not_a_socket(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    std::array<char, 8> buf{};
    try {
        raind::receive_with_fds(not_a_socket.get(), buf, 1, "receive the pty master");
        FAIL() << "recvmsg on /dev/null succeeded";
    } catch (const raind::SystemError& e) {
        EXPECT_EQ(e.code(), ENOTSOCK);
        EXPECT_NE(std::string(e.what()).find("receive the pty master"), std::string::npos) << e.what();
    }
}

TEST(SendWithFds, RefusesMoreThanTheLimit) {
    SocketPair s;
    std::vector<int> fds(raind::max_passed_fds + 1, s.a.get());
    errno = 0;
    EXPECT_EQ(raind::send_with_fds(s.a.get(), "x", 1, fds), -1);
    EXPECT_EQ(errno, EINVAL);
}

} // namespace
