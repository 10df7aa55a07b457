// The containers table of condenser.db: what exists, by id and unique name. The runtime state
// (running, exit status) is the shim's; this is only what survives a daemon restart.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "database.hpp"
#include "error.hpp"

namespace condenser {

struct ContainerRecord {
    std::string id;      // 64 hex
    std::string name;
    std::string image;   // as the caller named it
    std::string image_id; // sha256:…
    std::vector<std::string> command; // the process arguments
    int64_t created = 0; // unix seconds
    bool auto_remove = false;
    // Settings (stored as JSON): what starting its shim again needs, and labels.
    std::map<std::string, std::string> labels;
    std::string restart = "no";
    bool tty = false;
    bool interactive = false;
    std::string stop_signal; // the image's StopSignal; empty: SIGTERM
    int64_t started = 0;     // unix seconds of the last start, 0: never
};

class NameInUse : public raind::Error {
public:
    using raind::Error::Error;
};

class ContainerRecords {
public:
    explicit ContainerRecords(raind::db::Database& db) : db_(db) {}

    // Throws NameInUse naming the name when another container has it.
    void add(const ContainerRecord& record);
    // By full id, unique id prefix or name.
    std::optional<ContainerRecord> find(const std::string& id_or_name);
    std::vector<ContainerRecord> all();
    bool remove(const std::string& id);
    void set_started(const std::string& id, int64_t when);
    // Throws NameInUse naming the name when another container has it.
    void rename(const std::string& id, const std::string& name);

private:
    raind::db::Database& db_;
};

// A random 64-hex container id.
std::string new_container_id();
// Docker-style default name: "raind_" + the first 12 hex of the id.
std::string default_container_name(const std::string& id);

} // namespace condenser
