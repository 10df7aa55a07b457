// parse_spec: what config.json fields become, and the error that names a bad one.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "error.hpp"
#include "spec.hpp"

namespace droplet {
namespace {

nlohmann::json minimal() {
    return {{"ociVersion", "1.0.2"},
            {"root", {{"path", "rootfs"}}},
            {"process", {{"args", {"sh"}}, {"cwd", "/"}}}};
}

std::string error_of(const nlohmann::json& doc) {
    try {
        parse_spec(doc.dump());
    } catch (const raind::Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(Spec, TheDefaultSpecParsesBackWithItsDefaults) {
    Spec spec = parse_spec(default_spec(false).dump());
    EXPECT_EQ(spec.oci_version, "1.0.2");
    EXPECT_EQ(spec.root.path, "rootfs");
    EXPECT_TRUE(spec.root.readonly);
    EXPECT_TRUE(spec.process.terminal);
    EXPECT_EQ(spec.process.args, std::vector<std::string>{"sh"});
    EXPECT_TRUE(spec.process.no_new_privileges);
    ASSERT_EQ(spec.process.rlimits.size(), 1u);
    EXPECT_EQ(spec.process.rlimits[0].type, "RLIMIT_NOFILE");
    for (auto type : {"pid", "network", "ipc", "uts", "mount", "cgroup"})
        EXPECT_TRUE(spec.has_namespace(type)) << type;
    EXPECT_FALSE(spec.has_namespace("user"));
    EXPECT_EQ(spec.hostname, "droplet");
}

TEST(Spec, TheRootlessSpecMapsTheCallerToRoot) {
    Spec spec = parse_spec(default_spec(true).dump());
    EXPECT_TRUE(spec.has_namespace("user"));
    ASSERT_EQ(spec.linux.uid_mappings.size(), 1u);
    EXPECT_EQ(spec.linux.uid_mappings[0].container_id, 0u);
    EXPECT_EQ(spec.linux.uid_mappings[0].host_id, ::getuid());
}

TEST(Spec, FieldsAreRead) {
    nlohmann::json doc = minimal();
    doc["process"]["user"] = {{"uid", 1}, {"gid", 2}, {"umask", 18}, {"additionalGids", {3, 4}}};
    doc["process"]["env"] = {"A=b"};
    doc["process"]["oomScoreAdj"] = -5;
    doc["process"]["consoleSize"] = {{"height", 10}, {"width", 20}};
    doc["hostname"] = "h";
    doc["linux"] = {{"namespaces", {{{"type", "uts"}}, {{"type", "network"}, {"path", "/proc/1/ns/net"}}}},
                    {"timeOffsets", {{"boottime", {{"secs", 5}}}}}};
    doc["linux"]["namespaces"].push_back({{"type", "time"}});
    doc["hooks"] = {{"poststop", {{{"path", "/bin/true"}, {"timeout", 3}, {"args", {"true", "x"}}}}}};
    doc["annotations"] = {{"k", "v"}};
    Spec spec = parse_spec(doc.dump());
    EXPECT_EQ(spec.process.user.uid, 1u);
    EXPECT_EQ(spec.process.user.gid, 2u);
    EXPECT_EQ(*spec.process.user.umask, 18u);
    EXPECT_EQ(spec.process.user.additional_gids, (std::vector<gid_t>{3, 4}));
    EXPECT_EQ(*spec.process.oom_score_adj, -5);
    EXPECT_EQ(spec.process.console_size->width, 20u);
    EXPECT_EQ(spec.find_namespace("network")->path, "/proc/1/ns/net");
    EXPECT_EQ(spec.linux.time_offsets.at("boottime").secs, 5);
    ASSERT_EQ(spec.hooks.poststop.size(), 1u);
    EXPECT_EQ(*spec.hooks.poststop[0].timeout, 3);
    EXPECT_EQ(spec.annotations.at("k"), "v");
}

TEST(Spec, VersionsAccepted) {
    for (auto v : {"1.0.0", "1.0.2-dev", "1.1.0", "1.2.0", "1.2.1-rc.1"}) {
        nlohmann::json doc = minimal();
        doc["ociVersion"] = v;
        EXPECT_NO_THROW(parse_spec(doc.dump())) << v;
    }
    for (auto v : {"2.0.0", "0.9.0", "1.3.0", "1.0", "", "1.0.x"}) {
        nlohmann::json doc = minimal();
        doc["ociVersion"] = v;
        EXPECT_NE(error_of(doc).find("ociVersion"), std::string::npos) << v;
    }
}

TEST(Spec, ErrorsNameTheField) {
    auto with = [](auto change) {
        nlohmann::json doc = minimal();
        change(doc);
        return error_of(doc);
    };
    EXPECT_EQ(error_of(nlohmann::json::array()), "config.json: the document must be a JSON object");
    EXPECT_EQ(with([](auto& d) { d["process"]["args"] = nlohmann::json::array(); }),
              "config.json: process.args: must be a non-empty array of strings");
    EXPECT_EQ(with([](auto& d) { d["process"]["args"] = {"sh", 1}; }),
              "config.json: process.args[1]: must be a string");
    EXPECT_EQ(with([](auto& d) { d["process"]["env"] = {"NOVALUE"}; }),
              "config.json: process.env[0]: \"NOVALUE\" is not of the form KEY=VALUE");
    EXPECT_EQ(with([](auto& d) { d["process"]["oomScoreAdj"] = 2000; }),
              "config.json: process.oomScoreAdj: 2000 is outside -1000..1000");
    EXPECT_EQ(with([](auto& d) { d["process"]["rlimits"] = {{{"type", "RLIMIT_FOO"}, {"soft", 1}, {"hard", 1}}}; }),
              "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
    EXPECT_EQ(with([](auto& d) { d["linux"]["namespaces"] = {{{"type", "pid"}}, {{"type", "pid"}}}; }),
              "config.json: linux.namespaces[1].type: namespace \"pid\" is given twice");
    EXPECT_EQ(with([](auto& d) { d["linux"]["namespaces"] = {{{"type", "net"}, {"path", "relative"}}}; }),
              "config.json: linux.namespaces[0].type: unknown namespace type \"net\"");
    EXPECT_EQ(with([](auto& d) { d["hostname"] = "x"; }),
              "config.json: hostname: setting the hostname needs a uts namespace in linux.namespaces");
    EXPECT_EQ(with([](auto& d) { d["linux"]["timeOffsets"] = {{"realtime", {{"secs", 1}}}}; }),
              "config.json: linux.timeOffsets.realtime: only monotonic and boottime clocks can be offset");
    EXPECT_EQ(with([](auto& d) {
                  d["linux"]["namespaces"] = {{{"type", "user"}}};
                  d["linux"]["uidMappings"] = {{{"containerID", 0}, {"hostID", 1}, {"size", 1}}};
              }),
              "config.json: linux.uidMappings: a new user namespace needs both uidMappings and gidMappings");
    EXPECT_EQ(with([](auto& d) { d["root"]["path"] = ""; }), "config.json: root.path: must not be empty");
    EXPECT_NE(error_of(nlohmann::json::parse("{}")).find("ociVersion: is required"), std::string::npos);
}

TEST(Spec, MalformedJsonIsReported) {
    try {
        parse_spec("{\"ociVersion\": ");
        FAIL() << "no error";
    } catch (const raind::Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("config.json: malformed JSON: ", 0), 0u) << e.what();
    }
}

TEST(Spec, ProcessJsonErrorsNameTheirFile) {
    try {
        parse_process(R"({"args": ["sh"], "cwd": "relative"})");
        FAIL() << "no error";
    } catch (const raind::Error& e) {
        EXPECT_STREQ(e.what(), "process.json: process.cwd: \"relative\" must be an absolute path");
    }
    Process p = parse_process(R"({"args": ["sh", "-c", "x"], "cwd": "/tmp", "terminal": true})");
    EXPECT_EQ(p.args.size(), 3u);
    EXPECT_TRUE(p.terminal);
}

} // namespace
} // namespace droplet
