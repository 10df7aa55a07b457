// linux.namespaces: new ones differ from the host's, joined ones are the named ones, user
// namespaces map ids, time namespaces shift clocks, uts carries hostname and domainname.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <gtest/gtest.h>
#include <map>
#include <sstream>
#include <thread>

#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

std::string ns_link(const std::string& path) {
    char buf[128] = {};
    return ::readlink(path.c_str(), buf, sizeof buf - 1) > 0 ? buf : "";
}

// `unshare --mount sleep`: a mount namespace that is no container's, killed on destruction.
class MountNamespaceHolder {
public:
    MountNamespaceHolder() {
        pid_ = ::fork();
        if (pid_ == 0) {
            ::execlp("unshare", "unshare", "--mount", "--propagation", "private", "sleep", "1000", nullptr);
            ::_exit(127);
        }
        std::string own = ns_link("/proc/self/ns/mnt");
        for (int i = 0; i < 500 && (link().empty() || link() == own); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ~MountNamespaceHolder() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    MountNamespaceHolder(const MountNamespaceHolder&) = delete;
    MountNamespaceHolder& operator=(const MountNamespaceHolder&) = delete;

    std::string path() const { return "/proc/" + std::to_string(pid_) + "/ns/mnt"; }
    std::string link() const { return ns_link(path()); }

private:
    pid_t pid_ = -1;
};

class Namespaces : public ::testing::Test, public DropletTest {
protected:
    Output create(const std::string& id) {
        SpawnOptions o;
        o.stdout_file = dir() + "/" + id + ".out";
        return droplet({"create", "--bundle", bundle(), id}, o);
    }
};

std::string host_ns(const char* name) {
    char buf[128];
    ssize_t n = ::readlink((std::string("/proc/self/ns/") + name).c_str(), buf, sizeof buf);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

std::map<std::string, std::string> parse_links(const std::string& out) {
    std::map<std::string, std::string> links;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        size_t colon = line.find(':');
        if (colon != std::string::npos)
            links[line.substr(0, colon)] = line;
    }
    return links;
}

TEST_F(Namespaces, EveryRequestedNamespaceIsNew) {
    config()["linux"]["namespaces"].push_back({{"type", "time"}});
    set_args({"sh", "-c", "for n in pid net ipc uts mnt cgroup time; do readlink /proc/self/ns/$n; done"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    auto links = parse_links(o.out);
    for (const char* n : {"pid", "net", "ipc", "uts", "mnt", "cgroup", "time"}) {
        ASSERT_TRUE(links.count(n)) << n << " in " << o.out;
        EXPECT_NE(links[n], host_ns(n)) << n;
    }
}

TEST_F(Namespaces, WithoutANetworkNamespaceTheHostsIsShared) {
    auto& nss = config()["linux"]["namespaces"];
    for (size_t i = 0; i < nss.size(); ++i)
        if (nss[i]["type"] == "network")
            nss.erase(i);
    set_args({"readlink", "/proc/self/ns/net"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(trim(o.out), host_ns("net"));
}

TEST_F(Namespaces, PidNamespaceMakesTheProgramPid1AndLoopbackIsUp) {
    set_args({"sh", "-c", "echo $$; cat /sys/class/net/lo/operstate /sys/class/net/lo/flags"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    std::istringstream in(o.out);
    std::string pid, state, flags;
    in >> pid >> state >> flags;
    EXPECT_EQ(pid, "1");
    // IFF_UP (0x1) set.
    EXPECT_EQ(std::stoul(flags, nullptr, 16) & 1, 1u) << o.out;
}

TEST_F(Namespaces, HostnameAndDomainname) {
    config()["hostname"] = "box.inside";
    config()["domainname"] = "example.test";
    set_args({"sh", "-c", "hostname; cat /proc/sys/kernel/domainname"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "box.inside\nexample.test\n");
    char host[256] = {};
    ::gethostname(host, sizeof host);
    EXPECT_NE(std::string(host), "box.inside");
}

TEST_F(Namespaces, UserNamespaceMapsIds) {
    config()["linux"]["namespaces"].push_back({{"type", "user"}});
    config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    config()["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
    // sysfs and cgroup need more than a fresh user namespace grants on a hybrid host; keep it
    // to what a rootless-style config mounts.
    nlohmann::json mounts = nlohmann::json::array();
    for (auto& m : config()["mounts"])
        if (m["destination"] != "/sys" && m["destination"] != "/sys/fs/cgroup")
            mounts.push_back(m);
    config()["mounts"] = mounts;
    config()["linux"].erase("resources");
    set_args({"sh", "-c", "id -u; cat /proc/self/uid_map /proc/self/gid_map; readlink /proc/self/ns/user"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    std::istringstream in(o.out);
    std::string uid, a, b, c, d, e, f, link;
    in >> uid >> a >> b >> c >> d >> e >> f >> link;
    EXPECT_EQ(uid, "0");
    EXPECT_EQ(a + " " + b + " " + c, "0 100000 65536");
    EXPECT_EQ(d + " " + e + " " + f, "0 100000 65536");
    EXPECT_NE(link, host_ns("user"));
}

TEST_F(Namespaces, TimeNamespaceOffsetsBoottime) {
    config()["linux"]["namespaces"].push_back({{"type", "time"}});
    config()["linux"]["timeOffsets"] = {{"boottime", {{"secs", 86400 * 365}, {"nanosecs", 0}}}};
    set_args({"cat", "/proc/uptime"});
    Output o = run();
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_GT(std::stod(o.out), 86400.0 * 365) << o.out;
}

TEST_F(Namespaces, JoiningByPathSharesTheOthersNamespaces) {
    config()["hostname"] = "first";
    set_args({"sleep", "1000"});
    ASSERT_EQ(create("first").status, 0);
    pid_t pid = state("first")["pid"].get<pid_t>();
    std::string proc = "/proc/" + std::to_string(pid) + "/ns/";

    config().erase("hostname");
    auto& nss = config()["linux"]["namespaces"];
    for (auto& ns : nss)
        if (ns["type"] == "uts" || ns["type"] == "network" || ns["type"] == "ipc")
            ns["path"] = proc + (ns["type"] == "network" ? "net" : ns["type"].get<std::string>());
    set_args({"sh", "-c", "hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/ipc"});
    Output o = run("second");
    ASSERT_EQ(o.status, 0) << o.err;
    char net[128] = {}, ipc[128] = {};
    ASSERT_GT(::readlink((proc + "net").c_str(), net, sizeof net), 0);
    ASSERT_GT(::readlink((proc + "ipc").c_str(), ipc, sizeof ipc), 0);
    EXPECT_EQ(o.out, std::string("first\n") + net + "\n" + ipc + "\n");
    EXPECT_EQ(droplet({"delete", "--force", "first"}).status, 0);
    expect_nothing_left("first", pid);
}

TEST_F(Namespaces, JoiningAUserNamespaceByPathOwnsTheNewOnes) {
    config()["linux"]["namespaces"].push_back({{"type", "user"}});
    config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 300000}, {"size", 65536}}};
    config()["linux"]["gidMappings"] = {{{"containerID", 0}, {"hostID", 300000}, {"size", 65536}}};
    nlohmann::json mounts = nlohmann::json::array();
    for (auto& m : config()["mounts"])
        if (m["destination"] != "/sys" && m["destination"] != "/sys/fs/cgroup")
            mounts.push_back(m);
    config()["mounts"] = mounts;
    set_args({"sleep", "1000"});
    ASSERT_EQ(create("first").status, 0);
    pid_t pid = state("first")["pid"].get<pid_t>();
    std::string proc = "/proc/" + std::to_string(pid) + "/ns/";

    // The second joins the first's user namespace; its new mount/pid/… namespaces belong to it.
    config()["linux"].erase("uidMappings");
    config()["linux"].erase("gidMappings");
    for (auto& ns : config()["linux"]["namespaces"])
        if (ns["type"] == "user")
            ns["path"] = proc + "user";
    set_args({"sh", "-c", "id -u; cat /proc/self/uid_map; readlink /proc/self/ns/user; readlink /proc/self/ns/mnt"});
    Output o = run("second");
    ASSERT_EQ(o.status, 0) << o.err;
    std::istringstream in(o.out);
    std::string uid, a, b, c, user, mnt;
    in >> uid >> a >> b >> c >> user >> mnt;
    EXPECT_EQ(uid, "0");
    EXPECT_EQ(a + " " + b + " " + c, "0 300000 65536");
    char first_user[128] = {}, first_mnt[128] = {};
    ASSERT_GT(::readlink((proc + "user").c_str(), first_user, sizeof first_user), 0);
    ASSERT_GT(::readlink((proc + "mnt").c_str(), first_mnt, sizeof first_mnt), 0);
    EXPECT_EQ(user, first_user);
    EXPECT_NE(mnt, first_mnt);
    EXPECT_EQ(droplet({"delete", "--force", "first"}).status, 0);
    expect_nothing_left("first", pid);
}

// runtime-tools' linux_ns_path: a mount namespace given by path is where the container runs
// and its root filesystem is built; the host's mounts stay as they were.
TEST_F(Namespaces, AMountNamespaceJoinedByPathHoldsTheContainer) {
    MountNamespaceHolder holder;
    ASSERT_NE(holder.link(), ns_link("/proc/self/ns/mnt")) << "unshare --mount did not start";
    for (auto& ns : config()["linux"]["namespaces"])
        if (ns["type"] == "mount")
            ns["path"] = holder.path();
    set_args({"sh", "-c", "readlink /proc/self/ns/mnt; test -d /hooks && echo rootfs"});
    Output o = run("joined");
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, holder.link() + "\nrootfs\n");
    EXPECT_EQ(host_mounts_mentioning_path(dir()), "");
    expect_nothing_left("joined");
}

TEST_F(Namespaces, ANonexistentNamespacePathIsNamedAndNothingIsLeft) {
    for (auto& ns : config()["linux"]["namespaces"])
        if (ns["type"] == "network")
            ns["path"] = "/proc/999999999/ns/net";
    set_args({"true"});
    Output o = run();
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("network namespace path /proc/999999999/ns/net: No such file or directory"),
              std::string::npos)
        << o.err;
    expect_nothing_left("c");
}

TEST_F(Namespaces, ANamespacePathOfTheWrongTypeIsRefused) {
    for (auto& ns : config()["linux"]["namespaces"])
        if (ns["type"] == "network")
            ns["path"] = "/proc/self/ns/uts";
    set_args({"true"});
    Output o = run();
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("is not a network namespace"), std::string::npos) << o.err;
    expect_nothing_left("c");
}

} // namespace
} // namespace droplet::test
