// condenser-rest as a user meets it: units/condenser-rest.socket listens on
// /run/raind/raind.sock, the first connection starts condenser-rest.service with that
// socket, and Docker's ping answers. Plus the binary on its own: a clear refusal
// without a socket, and --listen for running it by hand.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "process.hpp"
#include "raind-config.h"
#include "systemd_client.hpp"

namespace fs = std::filesystem;
using raind::test::SystemdClient;

namespace {

const std::string socket_path = "/run/raind/raind.sock";
const std::string socket_unit = "condenser-rest.socket";
const std::string service_unit = "condenser-rest.service";
const std::string condenser_rest = RAIND_BINDIR "/condenser-rest"; // as the sandbox installed it

httplib::Result ping(const std::string& unix_socket, const std::string& path = "/_ping") {
    httplib::Client client(unix_socket);
    client.set_address_family(AF_UNIX);
    client.set_connection_timeout(std::chrono::seconds(5));
    client.set_read_timeout(std::chrono::seconds(5));
    return client.Get(path);
}

// The inode of the listening Unix socket bound at `path`, from the kernel's table.
std::string listening_socket_inode(const std::string& path) {
    std::ifstream table("/proc/net/unix");
    std::string line;
    std::getline(table, line); // header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, refs, protocol, flags, type, state, inode, bound;
        fields >> slot >> refs >> protocol >> flags >> type >> state >> inode >> bound;
        if (bound == path && state == "01") // SS_UNCONNECTED: the listening socket
            return inode;
    }
    return {};
}

bool has_fd_on_socket(pid_t pid, const std::string& inode) {
    for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
        std::error_code ec;
        if (fs::read_symlink(fd.path(), ec).string() == "socket:[" + inode + "]")
            return true;
    }
    return false;
}

std::string environment_of(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/environ");
    std::string env((std::istreambuf_iterator<char>(f)), {});
    std::replace(env.begin(), env.end(), '\0', '\n');
    return env;
}

bool wait_for_socket(const std::string& path) {
    for (int i = 0; i < 250; ++i) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

class RestSocket : public testing::Test {
protected:
    void TearDown() override {
        // Leave the sandbox as booted: the socket listening, the service idle.
        systemd_.stop_unit(service_unit);
        EXPECT_EQ(systemd_.property_as<std::string>(service_unit, raind::test::systemd_unit_interface, "ActiveState"),
                  "inactive");
        EXPECT_EQ(systemd_.property_as<uint32_t>(service_unit, raind::test::systemd_service_interface, "MainPID"), 0u);
    }
    SystemdClient systemd_;
};

} // namespace

TEST_F(RestSocket, SocketListensForTheRaindGroupAndTheServiceWaits) {
    EXPECT_EQ(systemd_.property_as<std::string>(socket_unit, raind::test::systemd_unit_interface, "ActiveState"), "active");
    EXPECT_EQ(systemd_.property_as<std::string>(socket_unit, raind::test::systemd_unit_interface, "SubState"), "listening");
    EXPECT_EQ(systemd_.property_as<std::string>(service_unit, raind::test::systemd_unit_interface, "ActiveState"), "inactive");
    struct stat st {};
    ASSERT_EQ(::stat(socket_path.c_str(), &st), 0) << socket_path;
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 07777, 0660u);
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_gid, raind::test::group_id("raind"));
}

TEST_F(RestSocket, FirstConnectionStartsTheServiceOnThePassedSocket) {
    auto res = ping(socket_path);
    ASSERT_TRUE(res) << "GET /_ping on " << socket_path << ": " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "OK");
    EXPECT_EQ(res->get_header_value("Api-Version"), "1.41");

    // Active once systemd has read its READY=1, which may come just after the answer.
    EXPECT_TRUE(systemd_.wait_for_state(service_unit, "active"));
    auto main_pid = systemd_.property_as<uint32_t>(service_unit, raind::test::systemd_service_interface, "MainPID");
    ASSERT_GT(main_pid, 0u);
    // The service serves the very socket systemd listens on, not one of its own.
    std::string inode = listening_socket_inode(socket_path);
    ASSERT_FALSE(inode.empty()) << "no listening socket at " << socket_path << " in /proc/net/unix";
    EXPECT_TRUE(has_fd_on_socket(static_cast<pid_t>(main_pid), inode));
    // ...and got it under the name the socket unit gives it. (The environment it was
    // started with: sd_listen_fds unsets the variables, /proc keeps the original.)
    std::string env = environment_of(static_cast<pid_t>(main_pid));
    EXPECT_NE(env.find("\nLISTEN_FDS=1\n"), std::string::npos) << env;
    EXPECT_NE(env.find("\nLISTEN_FDNAMES=rest\n"), std::string::npos) << env;

    auto versioned = ping(socket_path, "/v1.41/_ping");
    ASSERT_TRUE(versioned);
    EXPECT_EQ(versioned->status, 200);
    auto unknown = ping(socket_path, "/no/such/endpoint");
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 404);
    EXPECT_NE(unknown->body.find("\"message\""), std::string::npos) << unknown->body;
}

TEST_F(RestSocket, StoppingTheServiceKeepsTheSocketAndEndsTheProcess) {
    ASSERT_TRUE(ping(socket_path));
    auto main_pid = systemd_.property_as<uint32_t>(service_unit, raind::test::systemd_service_interface, "MainPID");
    ASSERT_GT(main_pid, 0u);
    ASSERT_EQ(systemd_.stop_unit(service_unit), "done");
    // Exited: gone, or a zombie systemd is about to reap (the unit counts as stopped once
    // its cgroup is empty, which can be a moment before the SIGCHLD is handled).
    EXPECT_TRUE(raind::test::has_exited(static_cast<pid_t>(main_pid))) << "condenser-rest " << main_pid << " survived its stop";
    EXPECT_EQ(systemd_.property_as<std::string>(service_unit, raind::test::systemd_service_interface, "Result"), "success");
    EXPECT_EQ(systemd_.property_as<std::string>(socket_unit, raind::test::systemd_unit_interface, "SubState"), "listening");
    // ...and the next connection starts it again.
    auto res = ping(socket_path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, "OK");
}

TEST_F(RestSocket, StoppingTheSocketRemovesItsFile) {
    ASSERT_EQ(systemd_.stop_unit(socket_unit), "done");
    EXPECT_FALSE(fs::exists(socket_path));
    ASSERT_EQ(systemd_.start_unit(socket_unit), "done");
    EXPECT_TRUE(fs::exists(socket_path));
}

TEST(CondenserRest, RefusesToStartWithoutASocket) {
    auto result = raind::test::run({condenser_rest});
    EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 1) << "wait status " << result.status;
    EXPECT_NE(result.err.find("no socket to serve"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("--listen unix:PATH"), std::string::npos) << result.err;
    EXPECT_TRUE(result.out.empty()) << result.out;
}

TEST(CondenserRest, RejectsAnAddressItCannotServe) {
    auto result = raind::test::run({condenser_rest, "--listen", "tcp:127.0.0.1:2375"});
    EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 1) << "wait status " << result.status;
    EXPECT_NE(result.err.find("'tcp:127.0.0.1:2375'"), std::string::npos) << result.err;
    EXPECT_NE(result.err.find("unix:/absolute/path"), std::string::npos) << result.err;
}

TEST(CondenserRest, ServesOnAGivenSocketAndRemovesItOnStop) {
    const std::string path = "/run/raind-rest-test.sock";
    auto server = raind::test::Child::spawn({condenser_rest, "--listen", "unix:" + path});
    ASSERT_TRUE(wait_for_socket(path)) << path << " never appeared";
    auto res = ping(path);
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "OK");

    server.signal(SIGTERM);
    int status = server.wait();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
    EXPECT_FALSE(fs::exists(path)) << path << " was left behind";
}
