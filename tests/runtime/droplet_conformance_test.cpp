// Requirements of the OCI runtime spec (runtime.md, config.md) not covered elsewhere, one test
// each, named after the sentence they check.
#include <gtest/gtest.h>

#include "droplet_harness.hpp"

namespace droplet::test {
namespace {

class Conformance : public ::testing::Test, public DropletTest {
protected:
    Output create(const std::string& id) {
        return droplet({"create", "--bundle", bundle(), id}, SpawnOptions::to_file(out_file(id)));
    }
    std::string out_file(const std::string& id) { return dir() + "/" + id + ".out"; }
};

// runtime.md, Lifecycle 2: "Any updates to config.json after this step MUST NOT affect the
// container."
TEST_F(Conformance, ConfigUpdatesAfterCreateDoNotAffectTheContainer) {
    set_args({"echo", "as created"});
    ASSERT_EQ(create("c").status, 0);
    config()["process"]["args"] = {"echo", "changed later"};
    config()["hooks"] = {{"poststart", {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "touch " + dir() + "/hook-ran"}}}}}};
    write_config();
    ASSERT_EQ(droplet({"start", "c"}).status, 0);
    EXPECT_EQ(wait_status("c", "stopped"), "stopped");
    EXPECT_EQ(read_file_text(out_file("c")), "as created\n");
    EXPECT_NE(::access((dir() + "/hook-ran").c_str(), F_OK), 0);
    EXPECT_EQ(droplet({"delete", "c"}).status, 0);
}

// runtime.md, State: "stopped: the container process has exited".
TEST_F(Conformance, TheStatusIsStoppedOnceTheProcessExits) {
    set_args({"true"});
    ASSERT_EQ(create("c").status, 0);
    ASSERT_EQ(droplet({"start", "c"}).status, 0);
    EXPECT_EQ(wait_status("c", "stopped"), "stopped");
    EXPECT_EQ(droplet({"delete", "c"}).status, 0);
    expect_nothing_left("c");
}

// runtime.md, Start: "Attempting to start a container that is not created MUST have no effect
// on the container and MUST generate an error."
TEST_F(Conformance, StartingAStoppedContainerIsAnError) {
    set_args({"true"});
    ASSERT_EQ(create("c").status, 0);
    ASSERT_EQ(droplet({"start", "c"}).status, 0);
    ASSERT_EQ(wait_status("c", "stopped"), "stopped");
    Output o = droplet({"start", "c"});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("it is stopped"), std::string::npos) << o.err;
    EXPECT_EQ(state("c")["status"], "stopped");
}

// runtime.md, Kill: "Attempting to send a signal to a container that is neither created nor
// running MUST have no effect on the container and MUST generate an error." A created one
// can be signalled.
TEST_F(Conformance, ACreatedContainerCanBeKilled) {
    set_args({"true"});
    ASSERT_EQ(create("c").status, 0);
    EXPECT_EQ(droplet({"kill", "c", "KILL"}).status, 0);
    EXPECT_EQ(wait_status("c", "stopped"), "stopped");
    EXPECT_NE(droplet({"kill", "c", "KILL"}).status, 0);
    EXPECT_EQ(droplet({"delete", "c"}).status, 0);
    // The program never ran.
    EXPECT_EQ(read_file_text(out_file("c")), "");
}

// runtime.md, Delete: "Attempting to delete a container that does not exist MUST generate an
// error." and the state is gone afterwards.
TEST_F(Conformance, DeletingTwiceIsAnError) {
    set_args({"true"});
    ASSERT_EQ(droplet({"run", "--bundle", bundle(), "--keep", "c"}).status, 0);
    EXPECT_EQ(state("c")["status"], "stopped");
    EXPECT_EQ(droplet({"delete", "c"}).status, 0);
    Output again = droplet({"delete", "c"});
    EXPECT_NE(again.status, 0);
    EXPECT_NE(again.err.find("does not exist"), std::string::npos) << again.err;
}

// runtime.md, Create: "This operation MUST generate an error if it is not provided a path to
// the bundle and the container ID to associate with the container" — and an unknown option.
TEST_F(Conformance, CreateWithoutAnIdIsAnError) {
    Output o = droplet({"create", "--bundle", bundle()});
    EXPECT_NE(o.status, 0);
    EXPECT_NE(o.err.find("id"), std::string::npos) << o.err;
    EXPECT_EQ(trim(droplet({"list", "--quiet"}).out), "");
}

// config.md, Process: "env ... MUST be set as the environment" with nothing added.
TEST_F(Conformance, TheEnvironmentIsExactlyTheConfigured) {
    config()["process"]["env"] = {"ONLY=this"};
    // Without a cgroupsPath the cgroup is /<id>: a parallel test with id "c" would share it.
    config()["linux"]["cgroupsPath"] = "/" + dir().substr(dir().rfind('/') + 1) + "-env";
    set_args({"/bin/env"});
    Output o = droplet({"run", "--bundle", bundle(), "c"});
    ASSERT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, "ONLY=this\n");
}

// config.md, Hooks: poststop "MUST be called after the container is deleted but before the
// delete operation returns" — the state directory is already gone when it runs.
TEST_F(Conformance, PoststopRunsAfterTheContainerIsDeleted) {
    config()["hooks"] = {{"poststop",
                          {{{"path", "/bin/sh"},
                            {"args", {"sh", "-c", "ls " + state_root() + " > " + dir() + "/seen-by-poststop"}}}}}};
    set_args({"true"});
    ASSERT_EQ(droplet({"run", "--bundle", bundle(), "c"}).status, 0);
    EXPECT_EQ(read_file_text(dir() + "/seen-by-poststop"), "");
    EXPECT_EQ(::access((dir() + "/seen-by-poststop").c_str(), F_OK), 0);
}

} // namespace
} // namespace droplet::test
