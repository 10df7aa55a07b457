// condenser authorizes every method with polkit (polkit/org.raind.condenser.policy and
// 50-raind.rules, as installed in the sandbox). These are the answers it will get for
// the identities that matter, asked the way it will ask: CheckAuthorization with a
// unix-process subject.
#include <gtest/gtest.h>
#include <sdbus-c++/sdbus-c++.h>

#include <map>
#include <memory>
#include <string>

#include "process.hpp"

using raind::test::Child;
using raind::test::Identity;

namespace {

constexpr const char* read_action = "org.raind.condenser.read";

struct Answer {
    bool authorized;
    bool challenge; // the subject could authenticate (as an administrator) to be authorized
};

class Polkit {
public:
    Polkit()
        : connection_(sdbus::createSystemBusConnection()),
          authority_(sdbus::createProxy(*connection_, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority")) {}

    // Asks about a live process running as `who` (a fresh one per question, so the
    // subject's uid and start time are real).
    Answer check(const Identity& who, const std::string& action) {
        Child subject = Child::spawn({"/bin/sleep", "infinity"}, who);
        sdbus::Struct<std::string, std::map<std::string, sdbus::Variant>> unix_process{
            "unix-process",
            {{"pid", sdbus::Variant(static_cast<uint32_t>(subject.pid()))},
             {"start-time", sdbus::Variant(raind::test::start_time(subject.pid()))},
             {"uid", sdbus::Variant(static_cast<int32_t>(who.uid))}}};
        sdbus::Struct<bool, bool, std::map<std::string, std::string>> result;
        authority_->callMethod("CheckAuthorization")
            .onInterface("org.freedesktop.PolicyKit1.Authority")
            .withArguments(unix_process, action, std::map<std::string, std::string>{}, uint32_t{0}, std::string())
            .storeResultsTo(result);
        return {std::get<0>(result), std::get<1>(result)};
    }

private:
    std::unique_ptr<sdbus::IConnection> connection_;
    std::unique_ptr<sdbus::IProxy> authority_;
};

} // namespace

TEST(Polkit, RootIsAllowedToRead) {
    Answer answer = Polkit().check(raind::test::root_identity(), read_action);
    EXPECT_TRUE(answer.authorized);
    EXPECT_FALSE(answer.challenge);
}

TEST(Polkit, UnprivilegedUserIsNotAllowedToRead) {
    Identity sdtest = raind::test::identity_of("sdtest");
    ASSERT_EQ(sdtest.uid, 4242u);
    Answer answer = Polkit().check(sdtest, read_action);
    EXPECT_FALSE(answer.authorized);
    // auth_admin in the policy: an administrator's password would do, never a silent yes.
    EXPECT_TRUE(answer.challenge);
}

TEST(Polkit, RaindGroupMemberIsAllowedByOurRule) {
    Identity member = raind::test::identity_of("raindtest");
    gid_t raind = raind::test::group_id("raind");
    ASSERT_NE(std::find(member.groups.begin(), member.groups.end(), raind), member.groups.end());
    Polkit polkit;
    for (const char* action : {"org.raind.condenser.read", "org.raind.condenser.manage-containers",
                               "org.raind.condenser.manage-images", "org.raind.condenser.exec"}) {
        Answer answer = polkit.check(member, action);
        EXPECT_TRUE(answer.authorized) << action;
        EXPECT_FALSE(answer.challenge) << action;
    }
}

TEST(Polkit, RaindGroupGivesNothingBeyondOurActions) {
    Answer answer = Polkit().check(raind::test::identity_of("raindtest"), "org.freedesktop.systemd1.manage-units");
    EXPECT_FALSE(answer.authorized);
}

TEST(Polkit, UnknownActionIsAnErrorNotAnAnswer) {
    try {
        Polkit().check(raind::test::identity_of("raindtest"), "org.raind.condenser.no-such-action");
        FAIL() << "polkit answered for an action nobody registered";
    } catch (const sdbus::Error& e) {
        EXPECT_NE(e.getMessage().find("org.raind.condenser.no-such-action"), std::string::npos) << e.what();
    }
}
