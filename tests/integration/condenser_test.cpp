// condenser as a user meets it: started by D-Bus activation, every call authorized by polkit,
// its API the one dbus/org.raind.Condenser1.xml describes, exiting when idle without losing a
// request. Driven through the generated proxy, busctl and the raind CLI.
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "condenser1-proxy.h"
#include "process.hpp"
#include "raind-config.h"
#include "systemd_client.hpp"

namespace {

using raind::test::run;

class Manager final : public sdbus::ProxyInterfaces<org::raind::Condenser1::Manager_proxy> {
public:
    explicit Manager(sdbus::IConnection& connection)
        : ProxyInterfaces(connection, "org.raind.Condenser1", "/org/raind/Condenser1") {
        registerProxy();
    }
    ~Manager() { unregisterProxy(); }

private:
    void onImageProgress(const std::string&, const std::string&, const std::string&, const uint64_t&,
                         const uint64_t&) override {}
};

// argv run as `user` (a sandbox test identity) through setpriv, with its groups.
std::vector<std::string> as(const std::string& user, std::vector<std::string> argv) {
    raind::test::Identity who = raind::test::identity_of(user);
    std::vector<std::string> full = {"/usr/bin/setpriv", "--reuid=" + std::to_string(who.uid),
                                     "--regid=" + std::to_string(who.gid), "--init-groups", "--"};
    full.insert(full.end(), argv.begin(), argv.end());
    return full;
}

int exit_code(const raind::test::Output& out) { return WIFEXITED(out.status) ? WEXITSTATUS(out.status) : -1; }

// (interface, member kind, name, signature) of every method, signal and property an
// introspection document declares for org.raind.Condenser1.* interfaces.
std::set<std::string> api_of(const std::string& xml) {
    std::set<std::string> api;
    std::regex interface_re(R"re(<interface name="(org\.raind\.Condenser1\.[A-Za-z]+)">([\s\S]*?)</interface>)re");
    std::regex member_re(R"re(<(method|signal|property) name="([A-Za-z]+)"([^>]*?)(/>|>([\s\S]*?)</\1>))re");
    std::regex arg_re(R"re(<arg ([^>]*)/>)re");
    std::regex attr_re(R"re((\w+)="([^"]*)")re");
    for (std::sregex_iterator i(xml.begin(), xml.end(), interface_re), end; i != end; ++i) {
        std::string body = (*i)[2];
        for (std::sregex_iterator m(body.begin(), body.end(), member_re); m != end; ++m) {
            std::string entry = (*i)[1].str() + " " + (*m)[1].str() + " " + (*m)[2].str() + " ";
            std::string attrs = (*m)[3];
            if ((*m)[1] == "property") {
                entry += attrs;
            } else {
                std::string args = (*m)[5];
                for (std::sregex_iterator a(args.begin(), args.end(), arg_re); a != end; ++a) {
                    std::string arg = (*a)[1], type, direction = (*m)[1] == "signal" ? "out" : "in";
                    for (std::sregex_iterator t(arg.begin(), arg.end(), attr_re); t != end; ++t) {
                        if ((*t)[1] == "type")
                            type = (*t)[2];
                        if ((*t)[1] == "direction")
                            direction = (*t)[2];
                    }
                    entry += direction + ":" + type + " ";
                }
            }
            api.insert(std::regex_replace(entry, std::regex(R"re(\s+)re"), " "));
        }
    }
    return api;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

void set_idle_timeout(int seconds) {
    std::system("mkdir -p /etc/raind");
    std::ofstream("/etc/raind/condenser.env") << "CONDENSER_OPTIONS=--idle-timeout=" << seconds << "\n";
    std::system("systemctl daemon-reload");
}

class Condenser : public ::testing::Test {
protected:
    void TearDown() override {
        raind::test::SystemdClient systemd;
        systemd.stop_unit("condenser.service");
        std::remove("/etc/raind/condenser.env");
    }
};

} // namespace

TEST_F(Condenser, IsStartedByTheFirstCallAndAnswersVersion) {
    raind::test::SystemdClient systemd;
    EXPECT_NE(systemd.property_as<std::string>("condenser.service", raind::test::systemd_unit_interface, "ActiveState"),
              "active");
    auto connection = sdbus::createSystemBusConnection();
    auto info = Manager(*connection).Version();
    EXPECT_EQ(info.at("Version").get<std::string>(), RAIND_VERSION);
    EXPECT_EQ(info.at("StorageRoot").get<std::string>(), RAIND_STATE_DIR);
    EXPECT_EQ(info.at("CgroupDriver").get<std::string>(), "systemd");
    EXPECT_EQ(info.at("Runtime").get<std::string>(), RAIND_BINDIR "/droplet");
    // Type=notify: active means condenser said READY=1 after owning its name.
    EXPECT_EQ(systemd.property_as<std::string>("condenser.service", raind::test::systemd_unit_interface, "ActiveState"),
              "active");
}

TEST_F(Condenser, IntrospectionMatchesTheXml) {
    auto connection = sdbus::createSystemBusConnection();
    auto proxy = sdbus::createProxy(*connection, "org.raind.Condenser1", "/org/raind/Condenser1");
    std::string live;
    proxy->callMethod("Introspect").onInterface("org.freedesktop.DBus.Introspectable").storeResultsTo(live);
    // The interface file as installed: what clients are told the API is.
    std::string source = read_file(CONDENSER_XML);
    std::set<std::string> declared = api_of(source);
    ASSERT_FALSE(declared.empty()) << "nothing parsed from " CONDENSER_XML;
    // Interfaces of per-object types (Image, Container…) live on their own objects.
    std::set<std::string> on_manager;
    for (const auto& entry : declared)
        if (entry.rfind("org.raind.Condenser1.Manager ", 0) == 0)
            on_manager.insert(entry);
    EXPECT_EQ(api_of(live), on_manager);
    EXPECT_NE(live.find("org.freedesktop.DBus.ObjectManager"), std::string::npos);
}

TEST_F(Condenser, UnprivilegedCallerIsDeniedWithANamedError) {
    auto out = run(as("sdtest", {"/usr/bin/busctl", "call", "org.raind.Condenser1", "/org/raind/Condenser1",
                                 "org.raind.Condenser1.Manager", "Version"}));
    EXPECT_NE(exit_code(out), 0);
    EXPECT_NE(out.err.find("not authorized to org.raind.condenser.read"), std::string::npos) << out.err;

    auto cli = run(as("sdtest", {RAIND_BINDIR "/raind", "version"}));
    EXPECT_EQ(exit_code(cli), 77) << cli.err;
    EXPECT_EQ(std::count(cli.err.begin(), cli.err.end(), '\n'), 1) << cli.err;
    EXPECT_EQ(cli.err.rfind("raind: not authorized to org.raind.condenser.read", 0), 0u) << cli.err;
    EXPECT_EQ(cli.out, "");
}

TEST_F(Condenser, RaindGroupMemberIsAllowed) {
    auto cli = run(as("raindtest", {RAIND_BINDIR "/raind", "version", "--json"}));
    ASSERT_EQ(exit_code(cli), 0) << cli.err;
    EXPECT_NE(cli.out.find("\"CgroupDriver\": \"systemd\""), std::string::npos) << cli.out;
}

TEST_F(Condenser, RootUsesTheCli) {
    auto cli = run({RAIND_BINDIR "/raind", "version"});
    ASSERT_EQ(exit_code(cli), 0) << cli.err;
    EXPECT_NE(cli.out.find("Server (condenser):"), std::string::npos) << cli.out;
    EXPECT_NE(cli.out.find(RAIND_VERSION), std::string::npos) << cli.out;
}

TEST_F(Condenser, ExitsWhenIdleAndComesBackForTheNextCall) {
    set_idle_timeout(1);
    raind::test::SystemdClient systemd;
    auto connection = sdbus::createSystemBusConnection();
    Manager manager(*connection);
    for (int round = 0; round < 3; ++round) {
        // Every call must be answered, also the ones that race the idle exit.
        EXPECT_EQ(manager.Version().at("Version").get<std::string>(), RAIND_VERSION) << "round " << round;
        EXPECT_TRUE(systemd.wait_for_state("condenser.service", "inactive", std::chrono::seconds(5)))
            << "condenser did not exit after 1 s idle (round " << round << ")";
    }
}

TEST_F(Condenser, ManyCallsAcrossIdleExitsAreAllAnswered) {
    set_idle_timeout(1);
    auto connection = sdbus::createSystemBusConnection();
    Manager manager(*connection);
    int answered = 0;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    int i = 0;
    while (std::chrono::steady_clock::now() < until) {
        // Gaps just around the idle timeout hit the moment condenser gives its name back.
        std::this_thread::sleep_for(std::chrono::milliseconds(i++ % 2 ? 950 : 1050));
        manager.Version();
        ++answered;
    }
    EXPECT_GE(answered, 3);
}

TEST_F(Condenser, NeverExitsWithIdleTimeoutZero) {
    set_idle_timeout(0);
    auto connection = sdbus::createSystemBusConnection();
    Manager(*connection).Version();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    raind::test::SystemdClient systemd;
    EXPECT_EQ(systemd.property_as<std::string>("condenser.service", raind::test::systemd_unit_interface, "ActiveState"),
              "active");
}
