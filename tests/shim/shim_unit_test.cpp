#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "error.hpp"
#include "log_reader.hpp"
#include "log_writer.hpp"
#include "restart_policy.hpp"

using namespace shim;

TEST(RestartPolicy, ParsesDockerSpellings) {
    EXPECT_EQ(parse_restart_policy("no").kind, RestartPolicy::Kind::no);
    EXPECT_EQ(parse_restart_policy("always").kind, RestartPolicy::Kind::always);
    EXPECT_EQ(parse_restart_policy("unless-stopped").kind, RestartPolicy::Kind::unless_stopped);
    RestartPolicy p = parse_restart_policy("on-failure:3");
    EXPECT_EQ(p.kind, RestartPolicy::Kind::on_failure);
    EXPECT_EQ(p.max_retries, 3);
    EXPECT_EQ(parse_restart_policy("on-failure").max_retries, 0);
}

TEST(RestartPolicy, RejectsOtherTextNamingIt) {
    for (const char* bad : {"sometimes", "on-failure:", "on-failure:x", "on-failure:-1", "on-failure3", "Always"}) {
        try {
            parse_restart_policy(bad);
            ADD_FAILURE() << bad << " was accepted";
        } catch (const raind::Error& e) {
            EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "'"), std::string::npos) << e.what();
        }
    }
}

TEST(RestartPolicy, DecidesLikeDocker) {
    RestartPolicy twice = parse_restart_policy("on-failure:2");
    EXPECT_TRUE(should_restart(twice, 1, 0, false));
    EXPECT_TRUE(should_restart(twice, 137, 1, false));
    EXPECT_FALSE(should_restart(twice, 1, 2, false));
    EXPECT_FALSE(should_restart(twice, 0, 0, false));
    EXPECT_TRUE(should_restart(parse_restart_policy("on-failure"), 1, 1000, false));
    EXPECT_TRUE(should_restart(parse_restart_policy("always"), 0, 50, false));
    EXPECT_FALSE(should_restart(parse_restart_policy("always"), 0, 0, true));
    EXPECT_FALSE(should_restart(parse_restart_policy("unless-stopped"), 1, 0, true));
    EXPECT_FALSE(should_restart(parse_restart_policy("no"), 1, 0, false));
    EXPECT_EQ(restart_delay_ms(0), 100);
    EXPECT_EQ(restart_delay_ms(3), 800);
    EXPECT_EQ(restart_delay_ms(40), 10000);
}

TEST(LogFormat, TimeRoundTripsWithNanoseconds) {
    long long t = 1795446245123456789LL;
    std::string text = format_log_time(t);
    EXPECT_EQ(text, "2026-11-23T15:04:05.123456789Z");
    EXPECT_EQ(parse_log_time(text), t);
    EXPECT_EQ(parse_log_time("2026-11-23T16:04:05.5+01:00"), 1795446245500000000LL);
    EXPECT_FALSE(parse_log_time("2026-11-23 15:04:05Z"));
    EXPECT_FALSE(parse_log_time("yesterday"));
}

TEST(LogFormat, ParsesRecordsAndRejectsGarbage) {
    auto r = parse_log_record("2026-11-23T15:04:05.000000001Z stderr P half a line");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->stream, "stderr");
    EXPECT_TRUE(r->partial);
    EXPECT_EQ(r->text, "half a line");
    auto empty = parse_log_record("2026-11-23T15:04:05Z stdout F ");
    ASSERT_TRUE(empty);
    EXPECT_EQ(empty->text, "");
    EXPECT_FALSE(parse_log_record("2026-11-23T15:04:05Z stdin F x"));
    EXPECT_FALSE(parse_log_record("2026-11-23T15:04:05Z stdout X x"));
    EXPECT_FALSE(parse_log_record("not a log line"));
}

class LogFile : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/shim-log-XXXXXX";
        ASSERT_NE(::mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
        path_ = dir_ + "/log";
    }
    void TearDown() override { [[maybe_unused]] int r = std::system(("rm -rf " + dir_).c_str()); }
    std::string dir_, path_;
};

TEST_F(LogFile, WriterAndReaderAgreeOnLinesStreamsAndPartials) {
    LogWriter w(LogTarget{path_, false, "c1", "web"});
    w.write(Stream::stdout_stream, "one\ntw");
    w.write(Stream::stderr_stream, "oops\n");
    w.write(Stream::stdout_stream, "o\nthree\n");
    w.write(Stream::stdout_stream, "no newline yet");
    auto all = read_log(path_);
    ASSERT_EQ(all.size(), 5u);
    EXPECT_EQ(all[0].text, "one");
    EXPECT_EQ(all[1].stream, "stderr");
    EXPECT_EQ(all[1].text, "oops");
    EXPECT_EQ(all[2].text, "two"); // its two fragments joined
    EXPECT_EQ(all[3].text, "three");
    EXPECT_EQ(all[4].text, "no newline yet");
    EXPECT_FALSE(all[4].complete);

    auto tail = read_log(path_, LogQuery{0, 2});
    ASSERT_EQ(tail.size(), 2u);
    EXPECT_EQ(tail[0].text, "three");
    EXPECT_TRUE(read_log(path_, LogQuery{all[4].time_ns + 1, -1}).empty());
    EXPECT_TRUE(read_log(dir_ + "/missing").empty());
}

TEST_F(LogFile, FollowDeliversWhatIsAppendedUntilStopped) {
    LogWriter w(LogTarget{path_, false, "c1", ""});
    w.write(Stream::stdout_stream, "before\n");
    int stop[2];
    ASSERT_EQ(::pipe(stop), 0);
    std::vector<std::string> seen;
    std::thread writer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        w.write(Stream::stdout_stream, "after 1\n");
        w.write(Stream::stderr_stream, "after 2\n");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        [[maybe_unused]] ssize_t n = ::write(stop[1], "x", 1);
    });
    follow_log(path_, LogQuery{0, 1}, [&](const LogEntry& e) {
        seen.push_back(e.stream + ":" + e.text);
        return true;
    }, stop[0]);
    writer.join();
    EXPECT_EQ(seen, (std::vector<std::string>{"stdout:before", "stdout:after 1", "stderr:after 2"}));
    ::close(stop[0]);
    ::close(stop[1]);
}

TEST_F(LogFile, FollowStopsWhenTheCallbackSaysSo) {
    LogWriter w(LogTarget{path_, false, "c1", ""});
    for (int i = 0; i < 5; ++i)
        w.write(Stream::stdout_stream, std::to_string(i) + "\n");
    int count = 0;
    follow_log(path_, {}, [&](const LogEntry&) { return ++count < 3; });
    EXPECT_EQ(count, 3);
}
