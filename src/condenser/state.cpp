#include "state.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <vector>

#include "error.hpp"

namespace condenser {
namespace {

// Applied in order; later capabilities append here, an entry is never edited once released.
const std::vector<std::string_view> migrations = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    "CREATE TABLE containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image TEXT NOT NULL,"
    " image_id TEXT NOT NULL, command TEXT NOT NULL, created INTEGER NOT NULL, auto_remove INTEGER NOT NULL);",
    // What the shim needs to be started again (tty, stdin, restart, stop signal) and labels, as JSON.
    "ALTER TABLE containers ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';"
    " ALTER TABLE containers ADD COLUMN started INTEGER NOT NULL DEFAULT 0;",
};

} // namespace

std::unique_ptr<raind::db::Database> open_state(const std::string& state_dir) {
    if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST)
        raind::throw_errno("create state directory " + state_dir);
    auto database = std::make_unique<raind::db::Database>(state_dir + "/condenser.db");
    database->migrate(migrations);
    return database;
}

} // namespace condenser
