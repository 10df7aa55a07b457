// The systemd driver: systemd owns the container's cgroup as a transient scope with
// Delegate=yes; droplet asks for it over sd-bus and treats every request as a job.
#include <systemd/sd-bus.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>

#include "cgroup_drivers.hpp"
#include "libsystemd_api.hpp"
#include "error.hpp"
#include "fd.hpp"
#include "log.hpp"
#include "pidfd.hpp"

namespace droplet {
namespace {

constexpr const char* manager_service = "org.freedesktop.systemd1";
constexpr const char* manager_path = "/org/freedesktop/systemd1";
constexpr const char* manager_interface = "org.freedesktop.systemd1.Manager";

struct BusError {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    // Destructors touch libsystemd only when there is something to free: had it failed to
    // load, nothing was ever allocated, and a destructor must not throw.
    ~BusError() {
        if (error.name || error.message)
            libsystemd().sd_bus_error_free(&error);
    }
    bool has_name(const char* name) const { return libsystemd().sd_bus_error_has_name(&error, name); }
    std::string text(int r) const {
        if (error.message)
            return error.message;
        return std::strerror(-r);
    }
};

struct MessageRef {
    sd_bus_message* m = nullptr;
    MessageRef() = default;
    MessageRef(const MessageRef&) = delete;
    MessageRef& operator=(const MessageRef&) = delete;
    ~MessageRef() {
        if (m)
            libsystemd().sd_bus_message_unref(m);
    }
};

void check(int r, const char* what) {
    if (r < 0)
        raind::throw_errno(std::string("D-Bus message to systemd: ") + what, -r);
}

// A connection to systemd. As root, systemd's private socket first (as systemctl does): every
// message then goes straight to systemd instead of through the bus daemon, which saves the
// Hello and AddMatch round trips and a hop for each call, reply and JobRemoved signal (systemd
// sends its signals to every private connection). Otherwise, or when that socket does not
// answer, the system bus.
class Systemd {
public:
    Systemd() {
        int private_error = -EACCES;
        if (::geteuid() == 0) {
            private_error = open_private();
            if (private_error >= 0)
                return;
        }
        int r = libsystemd().sd_bus_open_system(&bus_);
        if (r >= 0)
            return;
        libsystemd().sd_bus_unref(bus_);
        bus_ = nullptr;
        throw raind::Error(std::string("--systemd-cgroup: cannot reach systemd: the system bus: ") +
                           std::strerror(-r) + "; /run/systemd/private: " + std::strerror(-private_error));
    }
    Systemd(const Systemd&) = delete;
    Systemd& operator=(const Systemd&) = delete;
    ~Systemd() {
        if (job_slot_)
            libsystemd().sd_bus_slot_unref(job_slot_);
        if (bus_)
            libsystemd().sd_bus_flush_close_unref(bus_);
    }

    // Must come before the call that queues the job, or its JobRemoved may be missed.
    void watch_jobs() {
        if (job_slot_)
            return;
        check(libsystemd().sd_bus_match_signal(bus_, &job_slot_, manager_service, manager_path, manager_interface, "JobRemoved",
                                  &Systemd::on_job_removed, this),
              "subscribe to JobRemoved");
    }

    // Waits for the job's JobRemoved and returns its result ("done", "failed", "canceled", …).
    std::string wait_job(const std::string& job) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!finished_.count(job)) {
            int r = libsystemd().sd_bus_process(bus_, nullptr);
            if (r < 0)
                raind::throw_errno("wait for systemd job " + job, -r);
            if (r > 0)
                continue;
            auto left = std::chrono::duration_cast<std::chrono::microseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                throw raind::Error("systemd job " + job + " did not finish within 60 s");
            r = libsystemd().sd_bus_wait(bus_, static_cast<uint64_t>(left.count()));
            if (r < 0 && r != -EINTR)
                raind::throw_errno("wait for systemd job " + job, -r);
        }
        return finished_[job];
    }

    sd_bus* get() const { return bus_; }

private:
    int open_private() {
        check(libsystemd().sd_bus_new(&bus_), "create a bus connection");
        check(libsystemd().sd_bus_set_address(bus_, "unix:path=/run/systemd/private"), "set the bus address");
        int r = libsystemd().sd_bus_start(bus_);
        if (r < 0) {
            libsystemd().sd_bus_unref(bus_);
            bus_ = nullptr;
        }
        return r;
    }

    static int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
        uint32_t id = 0;
        const char *path = nullptr, *unit = nullptr, *result = nullptr;
        if (libsystemd().sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) >= 0)
            static_cast<Systemd*>(userdata)->finished_[path] = result;
        return 0;
    }

    sd_bus* bus_ = nullptr;
    sd_bus_slot* job_slot_ = nullptr;
    std::map<std::string, std::string> finished_;
};

void append_property(sd_bus_message* m, const UnitProperty& p) {
    check(libsystemd().sd_bus_message_open_container(m, 'r', "sv"), "open property");
    check(libsystemd().sd_bus_message_append(m, "s", p.name.c_str()), "property name");
    std::visit(
        [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, bool>) {
                check(libsystemd().sd_bus_message_append(m, "v", "b", static_cast<int>(v)), "boolean property");
            } else if constexpr (std::is_same_v<T, uint64_t>) {
                check(libsystemd().sd_bus_message_append(m, "v", "t", v), "integer property");
            } else if constexpr (std::is_same_v<T, std::string>) {
                check(libsystemd().sd_bus_message_append(m, "v", "s", v.c_str()), "string property");
            } else if constexpr (std::is_same_v<T, std::vector<uint8_t>>) {
                check(libsystemd().sd_bus_message_open_container(m, 'v', "ay"), "open variant");
                check(libsystemd().sd_bus_message_append_array(m, 'y', v.data(), v.size()), "byte array property");
                check(libsystemd().sd_bus_message_close_container(m), "close variant");
            } else if constexpr (std::is_same_v<T, std::vector<std::pair<std::string, std::string>>>) {
                check(libsystemd().sd_bus_message_open_container(m, 'v', "a(ss)"), "open variant");
                check(libsystemd().sd_bus_message_open_container(m, 'a', "(ss)"), "open array");
                for (const auto& [a, b] : v)
                    check(libsystemd().sd_bus_message_append(m, "(ss)", a.c_str(), b.c_str()), "pair property");
                check(libsystemd().sd_bus_message_close_container(m), "close array");
                check(libsystemd().sd_bus_message_close_container(m), "close variant");
            } else {
                check(libsystemd().sd_bus_message_open_container(m, 'v', "a(st)"), "open variant");
                check(libsystemd().sd_bus_message_open_container(m, 'a', "(st)"), "open array");
                for (const auto& [a, b] : v)
                    check(libsystemd().sd_bus_message_append(m, "(st)", a.c_str(), b), "pair property");
                check(libsystemd().sd_bus_message_close_container(m), "close array");
                check(libsystemd().sd_bus_message_close_container(m), "close variant");
            }
        },
        p.value);
    check(libsystemd().sd_bus_message_close_container(m), "close property");
}

std::string cgroup_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("0::", 0) == 0)
            return line.substr(3);
    throw raind::Error("cannot find the cgroup of pid " + std::to_string(pid) + " in /proc/" + std::to_string(pid) +
                       "/cgroup");
}

class SystemdCgroup final : public CgroupManager {
public:
    SystemdCgroup(CgroupRecord record, std::string slice, std::string id, CgroupResources resources)
        : CgroupManager(std::move(record)), slice_(std::move(slice)), id_(std::move(id)),
          resources_(std::move(resources)) {}

    void enter(pid_t pid, bool) override {
        Systemd systemd;
        std::vector<CgroupFileWrite> leftover;
        std::vector<UnitProperty> properties = resource_properties(resources_, &leftover);
        systemd.watch_jobs();
        BusError error;
        int r = start_scope(systemd, pid, properties, true, error);
        if (r < 0 && (error.has_name(SD_BUS_ERROR_PROPERTY_READ_ONLY) || error.has_name(SD_BUS_ERROR_INVALID_ARGS)) &&
            error.error.message && std::strstr(error.error.message, "PIDFDs")) {
            // systemd before 253 knows only PIDs.
            libsystemd().sd_bus_error_free(&error.error);
            r = start_scope(systemd, pid, properties, false, error);
        }
        if (r < 0 && error.has_name("org.freedesktop.systemd1.UnitExists")) {
            // A restarted container finds its scope still there: join it and refresh its limits.
            reuse_scope(systemd, pid, properties);
        } else if (r < 0) {
            throw raind::Error("--systemd-cgroup: start the transient unit " + record_.unit + " in " + slice_ + ": " +
                               error.text(r));
        }
        record_.path = cgroup_of(pid);
        std::string dir = directory();
        write_cgroup_files(dir, leftover);
        apply_device_rules(dir, resources_.devices);
    }

    void update(const CgroupResources& resources) override {
        std::vector<CgroupFileWrite> leftover;
        std::vector<UnitProperty> properties = resource_properties(resources, &leftover);
        if (!properties.empty()) {
            Systemd systemd;
            set_properties(systemd, properties);
        }
        std::string dir = directory();
        write_cgroup_files(dir, leftover);
        if (!resources.devices.empty())
            apply_device_rules(dir, resources.devices);
    }

    void destroy() noexcept override {
        try {
            Systemd systemd;
            systemd.watch_jobs();
            BusError error;
            MessageRef reply;
            int r = libsystemd().sd_bus_call_method(systemd.get(), manager_service, manager_path, manager_interface, "StopUnit",
                                       &error.error, &reply.m, "ss", record_.unit.c_str(), "replace");
            if (r >= 0) {
                const char* job = nullptr;
                if (libsystemd().sd_bus_message_read(reply.m, "o", &job) >= 0)
                    systemd.wait_job(job);
            } else if (!error.has_name("org.freedesktop.systemd1.NoSuchUnit")) {
                raind::log::debug("stop " + record_.unit + ": " + error.text(r) + ", ignoring");
            }
            // A unit that ended failed would stay listed until reset.
            libsystemd().sd_bus_call_method(systemd.get(), manager_service, manager_path, manager_interface, "ResetFailedUnit",
                               nullptr, nullptr, "s", record_.unit.c_str());
        } catch (const std::exception& e) {
            raind::log::debug("stop " + record_.unit + ": " + e.what() + ", ignoring");
        }
    }

private:
    int start_scope(Systemd& systemd, pid_t pid, const std::vector<UnitProperty>& resources, bool use_pidfd,
                    BusError& error) {
        MessageRef call, reply;
        check(libsystemd().sd_bus_message_new_method_call(systemd.get(), &call.m, manager_service, manager_path, manager_interface,
                                             "StartTransientUnit"),
              "StartTransientUnit");
        check(libsystemd().sd_bus_message_append(call.m, "ss", record_.unit.c_str(), "fail"), "unit name");
        check(libsystemd().sd_bus_message_open_container(call.m, 'a', "(sv)"), "properties");
        std::vector<UnitProperty> base = {
            {"Description", "droplet container " + id_},
            {"Slice", slice_},
            {"Delegate", true},
            {"CollectMode", std::string("inactive-or-failed")},
            {"MemoryAccounting", true},
            {"CPUAccounting", true},
            {"TasksAccounting", true},
            {"IOAccounting", true},
        };
        for (const UnitProperty& p : base)
            append_property(call.m, p);
        for (const UnitProperty& p : resources)
            append_property(call.m, p);
        raind::UniqueFd pidfd;
        if (use_pidfd) {
            pidfd.reset(pidfd_open(pid, 0));
            if (!pidfd)
                raind::throw_errno("pidfd_open " + std::to_string(pid));
            check(libsystemd().sd_bus_message_append(call.m, "(sv)", "PIDFDs", "ah", 1, pidfd.get()), "PIDFDs");
        } else {
            check(libsystemd().sd_bus_message_append(call.m, "(sv)", "PIDs", "au", 1, static_cast<uint32_t>(pid)), "PIDs");
        }
        check(libsystemd().sd_bus_message_close_container(call.m), "properties");
        check(libsystemd().sd_bus_message_append(call.m, "a(sa(sv))", 0), "auxiliary units");
        int r = libsystemd().sd_bus_call(systemd.get(), call.m, 0, &error.error, &reply.m);
        if (r < 0)
            return r;
        const char* job = nullptr;
        check(libsystemd().sd_bus_message_read(reply.m, "o", &job), "read the job of StartTransientUnit");
        std::string result = systemd.wait_job(job);
        if (result != "done")
            throw raind::Error("--systemd-cgroup: the job starting " + record_.unit + " ended \"" + result +
                               "\" (see journalctl -u " + record_.unit + ")");
        return r;
    }

    void reuse_scope(Systemd& systemd, pid_t pid, const std::vector<UnitProperty>& properties) {
        BusError error;
        int r = libsystemd().sd_bus_call_method(systemd.get(), manager_service, manager_path, manager_interface,
                                   "AttachProcessesToUnit", &error.error, nullptr, "ssau", record_.unit.c_str(), "/", 1,
                                   static_cast<uint32_t>(pid));
        if (r < 0)
            throw raind::Error("--systemd-cgroup: join the existing unit " + record_.unit + ": " + error.text(r));
        set_properties(systemd, properties);
    }

    void set_properties(Systemd& systemd, const std::vector<UnitProperty>& properties) {
        MessageRef call;
        check(libsystemd().sd_bus_message_new_method_call(systemd.get(), &call.m, manager_service, manager_path, manager_interface,
                                             "SetUnitProperties"),
              "SetUnitProperties");
        check(libsystemd().sd_bus_message_append(call.m, "sb", record_.unit.c_str(), 1), "unit name");
        check(libsystemd().sd_bus_message_open_container(call.m, 'a', "(sv)"), "properties");
        for (const UnitProperty& p : properties)
            append_property(call.m, p);
        check(libsystemd().sd_bus_message_close_container(call.m), "properties");
        BusError error;
        int r = libsystemd().sd_bus_call(systemd.get(), call.m, 0, &error.error, nullptr);
        if (r < 0)
            throw raind::Error("set the properties of " + record_.unit + ": " + error.text(r));
    }

    std::string slice_, id_;
    CgroupResources resources_;
};

} // namespace

std::unique_ptr<CgroupManager> make_systemd_cgroup(const SystemdCgroupsPath& path, const std::string& id,
                                                   const CgroupResources& resources) {
    // Catch conversions that could fail before anything is started.
    resource_properties(resources);
    return std::make_unique<SystemdCgroup>(CgroupRecord{"systemd", "", path.unit}, path.slice, id, resources);
}

std::unique_ptr<CgroupManager> open_systemd_cgroup(const CgroupRecord& record) {
    return std::make_unique<SystemdCgroup>(record, "", "", CgroupResources{});
}

} // namespace droplet
