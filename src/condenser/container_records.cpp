#include "container_records.hpp"

#include <sys/random.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "container_spec.hpp"

namespace condenser {
namespace {

constexpr const char* columns = "id, name, image, image_id, command, created, auto_remove, settings, started";

ContainerRecord row(const raind::db::Statement& statement) {
    ContainerRecord record;
    record.id = statement.text(0);
    record.name = statement.text(1);
    record.image = statement.text(2);
    record.image_id = statement.text(3);
    record.command = nlohmann::json::parse(statement.text(4)).get<std::vector<std::string>>();
    record.created = statement.integer(5);
    record.auto_remove = statement.integer(6) != 0;
    auto settings = nlohmann::json::parse(statement.text(7));
    record.labels = settings.value("labels", std::map<std::string, std::string>{});
    record.restart = settings.value("restart", "no");
    record.tty = settings.value("tty", false);
    record.interactive = settings.value("interactive", false);
    record.stop_signal = settings.value("stop_signal", "");
    record.started = statement.integer(8);
    return record;
}

} // namespace

void ContainerRecords::add(const ContainerRecord& record) {
    raind::db::Transaction transaction(db_);
    auto taken = db_.prepare("SELECT id FROM containers WHERE name = ?1");
    taken.bind(1, record.name);
    if (taken.step())
        throw NameInUse("container name \"" + record.name + "\" is already used by " + taken.text(0).substr(0, 12));
    db_.prepare(std::string("INSERT INTO containers (") + columns + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
        .bind(1, record.id)
        .bind(2, record.name)
        .bind(3, record.image)
        .bind(4, record.image_id)
        .bind(5, nlohmann::json(record.command).dump())
        .bind(6, record.created)
        .bind(7, int64_t{record.auto_remove})
        .bind(8, nlohmann::json{{"labels", record.labels},
                                {"restart", record.restart},
                                {"tty", record.tty},
                                {"interactive", record.interactive},
                                {"stop_signal", record.stop_signal}}
                     .dump())
        .bind(9, record.started)
        .run();
    transaction.commit();
}

std::optional<ContainerRecord> ContainerRecords::find(const std::string& id_or_name) {
    auto by_name = db_.prepare(std::string("SELECT ") + columns + " FROM containers WHERE name = ?1 OR id = ?1");
    by_name.bind(1, id_or_name);
    if (by_name.step())
        return row(by_name);
    if (id_or_name.empty() || id_or_name.find_first_not_of("0123456789abcdef") != std::string::npos)
        return std::nullopt;
    // The prefix is plain hex, so it holds no LIKE wildcards.
    auto by_prefix = db_.prepare(std::string("SELECT ") + columns + " FROM containers WHERE id LIKE ?1 || '%'");
    by_prefix.bind(1, id_or_name);
    std::optional<ContainerRecord> found;
    while (by_prefix.step()) {
        if (found)
            throw InvalidContainerArgument("container id prefix " + id_or_name + " is ambiguous");
        found = row(by_prefix);
    }
    return found;
}

std::vector<ContainerRecord> ContainerRecords::all() {
    auto statement = db_.prepare(std::string("SELECT ") + columns + " FROM containers ORDER BY created, id");
    std::vector<ContainerRecord> records;
    while (statement.step())
        records.push_back(row(statement));
    return records;
}

bool ContainerRecords::remove(const std::string& id) {
    auto statement = db_.prepare("DELETE FROM containers WHERE id = ?1 RETURNING id");
    statement.bind(1, id);
    bool removed = statement.step();
    statement.run();
    return removed;
}

void ContainerRecords::set_started(const std::string& id, int64_t when) {
    db_.prepare("UPDATE containers SET started = ?2 WHERE id = ?1").bind(1, id).bind(2, when).run();
}

void ContainerRecords::rename(const std::string& id, const std::string& name) {
    raind::db::Transaction transaction(db_);
    auto taken = db_.prepare("SELECT id FROM containers WHERE name = ?1 AND id != ?2");
    taken.bind(1, name).bind(2, id);
    if (taken.step())
        throw NameInUse("container name \"" + name + "\" is already used by " + taken.text(0).substr(0, 12));
    db_.prepare("UPDATE containers SET name = ?2 WHERE id = ?1").bind(1, id).bind(2, name).run();
    transaction.commit();
}

std::string new_container_id() {
    unsigned char bytes[32];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes))
        raind::throw_errno("getrandom for a container id");
    std::string id;
    char hex[3];
    for (unsigned char byte : bytes) {
        std::snprintf(hex, sizeof hex, "%02x", byte);
        id += hex;
    }
    return id;
}

std::string default_container_name(const std::string& id) { return "raind_" + id.substr(0, 12); }

} // namespace condenser
