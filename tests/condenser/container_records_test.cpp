// The containers table in a real condenser.db (open_state runs the migrations).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "container_records.hpp"
#include "container_spec.hpp"
#include "state.hpp"

namespace {

using condenser::ContainerRecord;
using condenser::ContainerRecords;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::MatchesRegex;

class Records : public testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/raind-records-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        db_ = condenser::open_state(dir_ + "/state");
    }
    void TearDown() override {
        db_.reset();
        std::filesystem::remove_all(dir_);
    }
    ContainerRecord record(const std::string& id, const std::string& name) {
        ContainerRecord r;
        r.id = id;
        r.name = name;
        r.image = "busybox";
        r.image_id = "sha256:" + std::string(64, 'b');
        r.command = {"echo", "hi there"};
        r.created = 1700000000;
        r.auto_remove = true;
        return r;
    }
    std::string dir_;
    std::unique_ptr<raind::db::Database> db_;
};

TEST_F(Records, AddFindByIdPrefixOrNameAndRemove) {
    ContainerRecords records(*db_);
    std::string id = condenser::new_container_id();
    records.add(record(id, "web"));

    for (const std::string& key : {id, id.substr(0, 12), std::string("web")}) {
        auto found = records.find(key);
        ASSERT_TRUE(found) << key;
        EXPECT_EQ(found->id, id);
        EXPECT_EQ(found->name, "web");
        EXPECT_THAT(found->command, ElementsAre("echo", "hi there"));
        EXPECT_TRUE(found->auto_remove);
        EXPECT_EQ(found->created, 1700000000);
    }
    EXPECT_FALSE(records.find("nope"));
    EXPECT_TRUE(records.remove(id));
    EXPECT_FALSE(records.remove(id));
    EXPECT_FALSE(records.find(id));
    EXPECT_TRUE(records.all().empty());
}

TEST_F(Records, SettingsAndStartTimeSurviveReopening) {
    std::string id = condenser::new_container_id();
    {
        ContainerRecords records(*db_);
        auto r = record(id, "settings");
        r.labels = {{"app", "web"}, {"tier", "front"}};
        r.restart = "on-failure:3";
        r.tty = true;
        r.interactive = true;
        r.stop_signal = "SIGQUIT";
        records.add(r);
        records.set_started(id, 1700000100);
    }
    db_.reset();
    db_ = condenser::open_state(dir_ + "/state");
    ContainerRecords records(*db_);
    auto found = records.find("settings");
    ASSERT_TRUE(found);
    EXPECT_EQ(found->labels.at("tier"), "front");
    EXPECT_EQ(found->restart, "on-failure:3");
    EXPECT_TRUE(found->tty);
    EXPECT_TRUE(found->interactive);
    EXPECT_EQ(found->stop_signal, "SIGQUIT");
    EXPECT_EQ(found->started, 1700000100);
}

TEST_F(Records, NamesAreUniqueAndSurviveReopening) {
    {
        ContainerRecords records(*db_);
        records.add(record(std::string(64, 'a'), "web"));
        try {
            records.add(record(std::string(64, 'c'), "web"));
            FAIL() << "second container named web";
        } catch (const condenser::NameInUse& e) {
            EXPECT_THAT(e.what(), HasSubstr("\"web\" is already used by aaaaaaaaaaaa"));
        }
    }
    db_ = condenser::open_state(dir_ + "/state");
    ContainerRecords records(*db_);
    auto all = records.all();
    ASSERT_EQ(all.size(), 1U);
    EXPECT_EQ(all[0].id, std::string(64, 'a'));
}

TEST_F(Records, AmbiguousPrefixIsNamed) {
    ContainerRecords records(*db_);
    records.add(record("ab" + std::string(62, '1'), "one"));
    records.add(record("ab" + std::string(62, '2'), "two"));
    EXPECT_THROW(records.find("ab"), condenser::InvalidContainerArgument);
    EXPECT_EQ(records.find("ab1")->name, "one");
}

TEST(ContainerIds, RandomHexAndDockerLikeDefaultName) {
    auto a = condenser::new_container_id();
    auto b = condenser::new_container_id();
    EXPECT_THAT(a, MatchesRegex("[0-9a-f]{64}"));
    EXPECT_NE(a, b);
    EXPECT_EQ(condenser::default_container_name(a), "raind_" + a.substr(0, 12));
}

} // namespace
