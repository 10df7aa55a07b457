// process.terminal: the pty master reaches the caller over --console-socket, the program has
// the slave as its controlling terminal, sized as consoleSize says.
#include <sys/ioctl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "console_socket.hpp"
#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class Console : public ::testing::Test, public DropletTest {};

TEST_F(Console, ThePtyMasterArrivesOverTheConsoleSocketAndIsTheProgramsTerminal) {
    ConsoleSocket socket(dir() + "/console.sock");
    config()["process"]["terminal"] = true;
    config()["process"]["consoleSize"] = {{"height", 33}, {"width", 101}};
    set_args({"sh", "-c", "stty size; [ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; tty; ls /dev/pts"});
    SpawnOptions o;
    o.stdout_file = dir() + "/create.out";
    Output create = droplet({"create", "--bundle", bundle(), "--console-socket", socket.path(), "c"}, o);
    ASSERT_EQ(create.status, 0) << read_file_text(o.stdout_file);
    int master = socket.receive_master();
    ASSERT_GE(master, 0);
    int ptn = -1;
    EXPECT_EQ(::ioctl(master, TIOCGPTN, &ptn), 0) << "the fd is a pty master";
    ASSERT_EQ(droplet({"start", "c"}).status, 0);
    std::string seen = ConsoleSocket::read_all(master);
    ::close(master);
    EXPECT_NE(seen.find("33 101"), std::string::npos) << seen;
    EXPECT_NE(seen.find("stdio-is-a-tty"), std::string::npos) << seen;
    // The pty belongs to the container's own devpts, as on any terminal.
    EXPECT_NE(seen.find("/dev/pts/0\r\n"), std::string::npos) << seen;
    EXPECT_NE(seen.find("0     ptmx"), std::string::npos) << seen;
    EXPECT_EQ(wait_status("c", "stopped"), "stopped");
    EXPECT_EQ(droplet({"delete", "c"}).status, 0);
    expect_nothing_left("c");
}

TEST_F(Console, RunInTheForegroundRelaysItsOwnTerminal) {
    // No console socket: droplet keeps the pty master and copies between it and its stdio,
    // which script makes a terminal here, as a person's shell would.
    config()["process"]["terminal"] = true;
    set_args({"sh", "-c", "[ -t 0 ] && echo relay-tty; read line; echo got:$line; exit 4"});
    write_config();
    std::string command = "'" + droplet_path() + "' --root '" + state_root() + "' run --bundle '" + bundle() + "' c";
    SpawnOptions o;
    o.stdin_text = "typed\n";
    Output r = spawn({"script", "-qec", command, "/dev/null"}, o);
    EXPECT_EQ(r.status, 4) << r.out << r.err;
    EXPECT_NE(r.out.find("relay-tty"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("got:typed"), std::string::npos) << r.out;
    expect_nothing_left("c");
}

TEST_F(Console, WithoutATerminalStdioIsPassedThrough) {
    set_args({"sh", "-c", "[ -t 0 ] || echo not-a-tty; read line; echo got $line"});
    SpawnOptions o;
    o.stdin_text = "from stdin\n";
    Output r = droplet({"run", "--bundle", bundle(), "c"}, o);
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.out, "not-a-tty\ngot from stdin\n");
}

TEST_F(Console, AConsoleSocketThatIsNotListeningIsNamed) {
    config()["process"]["terminal"] = true;
    set_args({"true"});
    Output r = droplet({"create", "--bundle", bundle(), "--console-socket", dir() + "/nobody", "c"});
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("connect to console socket " + dir() + "/nobody"), std::string::npos) << r.err;
    expect_nothing_left("c");
}

} // namespace
} // namespace droplet::test
