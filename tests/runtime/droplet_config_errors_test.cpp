// A bad config.json gets one clear error naming what is wrong, and leaves nothing behind.
#include <gtest/gtest.h>

#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class BadConfig : public ::testing::Test, public DropletTest {
protected:
    void expect_refused(const std::string& needle) {
        Output o = droplet({"create", "--bundle", bundle(), "bad"});
        EXPECT_NE(o.status, 0);
        EXPECT_NE(o.err.find(needle), std::string::npos) << "stderr: " << o.err;
        EXPECT_EQ(o.err.find('\n'), o.err.size() - 1) << "one line: " << o.err;
        expect_nothing_left("bad");
        EXPECT_EQ(trim(droplet({"list", "--quiet"}).out), "");
    }
    void write_raw(const std::string& text) {
        raw_ = text;
    }
    Output droplet(const std::vector<std::string>& args) {
        if (raw_.empty())
            return DropletTest::droplet(args);
        // The raw text replaces the config after DropletTest wrote it.
        write_config();
        write_file_text(bundle() + "/config.json", raw_);
        std::vector<std::string> argv = {droplet_path(), "--root", state_root()};
        argv.insert(argv.end(), args.begin(), args.end());
        return spawn(argv);
    }

private:
    std::string raw_;
};

TEST_F(BadConfig, MalformedJson) {
    write_raw("{\"ociVersion\": \"1.0.2\", ");
    expect_refused("config.json: malformed JSON");
}

TEST_F(BadConfig, UnknownOciVersion) {
    config()["ociVersion"] = "2.0.0";
    expect_refused("config.json: ociVersion: \"2.0.0\" is not supported");
}

TEST_F(BadConfig, MissingRoot) {
    config().erase("root");
    expect_refused("config.json: root: is required");
}

TEST_F(BadConfig, RootfsThatDoesNotExist) {
    config()["root"]["path"] = "/no/such/rootfs";
    expect_refused("root.path /no/such/rootfs: No such file or directory");
}

TEST_F(BadConfig, MountTargetEscapingTheRootfs) {
    config()["mounts"].push_back({{"destination", "/../../etc/escaped"}, {"type", "tmpfs"}, {"source", "tmpfs"}});
    expect_refused("/../../etc/escaped");
}

TEST_F(BadConfig, MissingArgs) {
    config()["process"].erase("args");
    expect_refused("config.json: process.args: is required");
}

TEST_F(BadConfig, WrongType) {
    config()["process"]["user"]["uid"] = "root";
    expect_refused("config.json: process.user.uid: must be a non-negative integer");
}

TEST_F(BadConfig, RelativeCwd) {
    config()["process"]["cwd"] = "tmp";
    expect_refused("config.json: process.cwd: \"tmp\" must be an absolute path");
}

TEST_F(BadConfig, UnknownNamespaceType) {
    config()["linux"]["namespaces"].push_back({{"type", "nope"}});
    expect_refused("unknown namespace type \"nope\"");
}

TEST_F(BadConfig, NoMountNamespace) {
    nlohmann::json kept = nlohmann::json::array();
    for (auto& ns : config()["linux"]["namespaces"])
        if (ns["type"] != "mount")
            kept.push_back(ns);
    config()["linux"]["namespaces"] = kept;
    expect_refused("a new mount namespace");
}

TEST_F(BadConfig, AJoinedMountNamespace) {
    for (auto& ns : config()["linux"]["namespaces"])
        if (ns["type"] == "mount")
            ns["path"] = "/proc/self/ns/mnt";
    expect_refused("a new mount namespace");
}

TEST_F(BadConfig, MappingsWithoutAUserNamespace) {
    config()["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1000}, {"size", 1}}};
    expect_refused("id mappings need a user namespace");
}

TEST_F(BadConfig, HookWithARelativePath) {
    config()["hooks"] = {{"prestart", {{{"path", "hook.sh"}}}}};
    expect_refused("config.json: hooks.prestart[0].path: \"hook.sh\" must be an absolute path");
}

TEST_F(BadConfig, HookWithAZeroTimeout) {
    config()["hooks"] = {{"poststart", {{{"path", "/bin/true"}, {"timeout", 0}}}}};
    expect_refused("hooks.poststart[0].timeout: must be greater than zero");
}

TEST_F(BadConfig, RlimitSoftAboveHard) {
    config()["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"soft", 10}, {"hard", 5}}};
    expect_refused("RLIMIT_NOFILE soft limit 10 is above its hard limit 5");
}

TEST_F(BadConfig, TerminalWithoutAConsoleSocket) {
    config()["process"]["terminal"] = true;
    expect_refused("no --console-socket");
}

TEST_F(BadConfig, MissingBundle) {
    Output o = DropletTest::droplet({"create", "--bundle", dir() + "/nope", "bad"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("bundle " + dir() + "/nope: No such file or directory"), std::string::npos) << o.err;
    expect_nothing_left("bad");
}

} // namespace
} // namespace droplet::test
