// raind pull: progress bars on a terminal (one line per layer, redrawn), plain lines otherwise.
#include <unistd.h>

#include <cstdio>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "client.hpp"
#include "commands.hpp"
#include "registry_options.hpp"

namespace raind::cli {
namespace {

std::string short_digest(const std::string& digest) {
    auto colon = digest.find(':');
    return digest.substr(colon == std::string::npos ? 0 : colon + 1, 12);
}

std::string human_size(uint64_t bytes) {
    const char* units[] = {"B", "kB", "MB", "GB"};
    double value = static_cast<double>(bytes);
    int unit = 0;
    while (value >= 1000 && unit < 3) {
        value /= 1000;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, unit == 0 ? "%.0f%s" : "%.1f%s", value, units[unit]);
    return text;
}

// Keeps one line per blob and redraws them in place.
class Bars {
public:
    void update(const std::string& event, const std::string& digest, uint64_t current, uint64_t total) {
        std::lock_guard lock(mutex_);
        if (event == "resolved" || event == "done" || digest.empty())
            return;
        Line* line = find(digest);
        if (!line) {
            lines_.push_back({digest, "", 0, 0});
            line = &lines_.back();
        }
        if (event == "blob-started" || event == "blob-progress") {
            line->state = "Downloading";
            line->current = current;
            line->total = total ? total : line->total;
        } else if (event == "blob-exists") {
            line->state = "Already exists";
        } else if (event == "blob-done") {
            line->state = "Download complete";
            line->current = line->total;
        } else if (event == "layer-unpacked") {
            line->state = "Unpacked";
        } else {
            line->state = event;
        }
        draw();
    }

private:
    struct Line {
        std::string digest, state;
        uint64_t current, total;
    };
    Line* find(const std::string& digest) {
        for (auto& line : lines_)
            if (line.digest == digest)
                return &line;
        return nullptr;
    }
    void draw() {
        if (drawn_ > 0)
            std::fprintf(stdout, "\x1b[%zuA", drawn_);
        for (const auto& line : lines_) {
            std::fprintf(stdout, "\r%s: %-18s", short_digest(line.digest).c_str(), line.state.c_str());
            if (line.state == "Downloading" && line.total > 0) {
                constexpr int width = 30;
                int filled = static_cast<int>(width * line.current / line.total);
                std::fprintf(stdout, " [%s>%s] %s/%s", std::string(filled, '=').c_str(),
                             std::string(width - filled, ' ').c_str(), human_size(line.current).c_str(),
                             human_size(line.total).c_str());
            }
            std::fprintf(stdout, "\x1b[K\n");
        }
        drawn_ = lines_.size();
        std::fflush(stdout);
    }

    std::mutex mutex_;
    std::vector<Line> lines_;
    size_t drawn_ = 0;
};

void plain_line(const std::string& event, const std::string& digest, uint64_t total) {
    if (event == "blob-progress")
        return; // bytes counts are for the bars only
    if (event == "resolved")
        std::printf("resolved %s\n", digest.c_str());
    else if (event == "blob-started")
        std::printf("%s: downloading %s\n", short_digest(digest).c_str(), human_size(total).c_str());
    else if (event == "blob-exists")
        std::printf("%s: already exists\n", short_digest(digest).c_str());
    else if (event == "blob-done")
        std::printf("%s: download complete\n", short_digest(digest).c_str());
    else if (event == "layer-unpacked")
        std::printf("%s: unpacked\n", short_digest(digest).c_str());
    else if (event != "done")
        std::printf("%s: %s\n", short_digest(digest).c_str(), event.c_str());
    std::fflush(stdout);
}

} // namespace

void add_pull(CLI::App& app) {
    auto* command = app.add_subcommand("pull", "Pull an image from a registry");
    auto reference = std::make_shared<std::string>();
    auto flags = std::make_shared<RegistryFlags>();
    auto quiet = std::make_shared<bool>(false);
    command->add_option("image", *reference, "image reference, e.g. busybox or 127.0.0.1:5000/app:1")->required();
    command->add_option("--platform", flags->platform, "os/arch[/variant] to pick from a multi-platform image");
    command->add_option("--tls-verify", flags->tls_verify, "verify TLS and require HTTPS (false allows plain HTTP)")
        ->default_str("true");
    command->add_option("--authfile", flags->authfile, "credentials file (default: see raind login)");
    command->add_flag("-q,--quiet", *quiet, "print only the image id");
    set_action(*command, [=] {
        auto options = registry_call_options(registry_of(*reference), *flags);
        if (*quiet) {
            // Only the id to show: one blocking call, without subscribing to the progress
            // signals or starting a thread for them (bus round trips and thread hand-overs a
            // script's `raind pull -q` does not need).
            auto connection = sdbus::createSystemBusConnection();
            auto manager = sdbus::createProxy(*connection, std::string(ManagerProxy::service), std::string(ManagerProxy::path));
            std::string id;
            sdbus::ObjectPath path;
            manager->callMethod("PullImage")
                .onInterface(ManagerProxy::INTERFACE_NAME)
                .withTimeout(std::chrono::microseconds(ManagerProxy::long_call_timeout_usec))
                .withArguments(*reference, options)
                .storeResultsTo(id, path);
            std::printf("%s\n", id.c_str());
            return 0;
        }
        Client client;
        auto bars = std::make_shared<Bars>();
        // The signals of a pull precede its reply on the bus, but they are printed on the
        // signal thread: wait for "done" so the summary line comes last.
        struct Done {
            std::mutex mutex;
            std::condition_variable seen;
            bool done = false;
        };
        auto finished = std::make_shared<Done>();
        bool tty = ::isatty(STDOUT_FILENO) == 1;
        {
            client.manager().on_progress([=](const std::string& ref, const std::string& event,
                                             const std::string& digest, uint64_t current, uint64_t total) {
                if (ref != *reference)
                    return; // someone else's pull
                if (event == "done") {
                    std::lock_guard lock(finished->mutex);
                    finished->done = true;
                    finished->seen.notify_all();
                }
                if (tty)
                    bars->update(event, digest, current, total);
                else
                    plain_line(event, digest, total);
            });
        }
        client.watch_signals();
        std::string id;
        sdbus::ObjectPath path;
        auto reply = client.manager().call_long("PullImage", *reference, options);
        reply >> id >> path;
        {
            std::unique_lock lock(finished->mutex);
            finished->seen.wait_for(lock, std::chrono::seconds(2), [&] { return finished->done; });
        }
        std::printf("pulled %s: %s\n", reference->c_str(), id.c_str());
        return 0;
    });
}

} // namespace raind::cli
