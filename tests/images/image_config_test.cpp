#include <gtest/gtest.h>

#include "error.hpp"
#include "image_config.hpp"

using raind::images::ImageConfig;

TEST(ImageConfig, ReadsWhatARunNeeds) {
    std::string d = "sha256:" + std::string(64, 'a');
    auto c = ImageConfig::parse(R"({
      "created": "2024-01-01T00:00:00Z", "architecture": "arm64", "variant": "v8", "os": "linux",
      "config": {"User": "1000:1000", "WorkingDir": "/var/www", "StopSignal": "SIGKILL",
                 "Env": ["PATH=/bin", "A=b=c"], "Entrypoint": ["/usr/sbin/httpd", "-f"], "Cmd": ["-p", "80"],
                 "ExposedPorts": {"80/tcp": {}, "53/udp": {}}, "Volumes": {"/data": {}},
                 "Labels": {"org.example": "yes"}},
      "rootfs": {"type": "layers", "diff_ids": [")" + d + R"("]}})");
    EXPECT_EQ(c.architecture, "arm64");
    EXPECT_EQ(c.variant, "v8");
    EXPECT_EQ(c.user, "1000:1000");
    EXPECT_EQ(c.working_dir, "/var/www");
    EXPECT_EQ(c.stop_signal, "SIGKILL");
    EXPECT_EQ(c.env, (std::vector<std::string>{"PATH=/bin", "A=b=c"}));
    EXPECT_EQ(c.entrypoint, (std::vector<std::string>{"/usr/sbin/httpd", "-f"}));
    EXPECT_EQ(c.cmd, (std::vector<std::string>{"-p", "80"}));
    EXPECT_EQ(c.exposed_ports, (std::vector<std::string>{"53/udp", "80/tcp"}));
    EXPECT_EQ(c.volumes, std::vector<std::string>{"/data"});
    EXPECT_EQ(c.labels.at("org.example"), "yes");
    ASSERT_EQ(c.diff_ids.size(), 1u);
    EXPECT_EQ(c.diff_ids[0].str(), d);
}

TEST(ImageConfig, NullsAndMissingFieldsAreEmpty) {
    auto c = ImageConfig::parse(R"({"config": {"Cmd": null, "Env": null, "Labels": null}})");
    EXPECT_TRUE(c.cmd.empty());
    EXPECT_TRUE(c.env.empty());
    EXPECT_TRUE(c.labels.empty());
    EXPECT_TRUE(ImageConfig::parse("{}").entrypoint.empty());
}

TEST(ImageConfig, WrongTypesNameTheField) {
    auto error = [](const std::string& text) {
        try {
            ImageConfig::parse(text);
        } catch (const raind::Error& e) {
            return std::string(e.what());
        }
        return std::string("(parsed)");
    };
    EXPECT_EQ(error(R"({"config": {"Cmd": "sh"}})"), "image config: config.Cmd must be an array of strings");
    EXPECT_EQ(error(R"({"config": {"Env": [1]}})"), "image config: config.Env must be an array of strings");
    EXPECT_EQ(error(R"({"config": {"Labels": {"a": 1}}})"), "image config: config.Labels.a must be a string");
    EXPECT_EQ(error(R"({"os": 3})"), "image config: os must be a string");
    EXPECT_EQ(error("[]"), "image config: not a JSON object");
}
