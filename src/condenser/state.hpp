// condenser's durable state: one SQLite database under the state root, written in transactions.
#pragma once

#include <memory>
#include <string>

#include "database.hpp"

namespace condenser {

// Opens (creating the directory and file if needed) <state_dir>/condenser.db and brings its
// schema up to date. Throws raind::Error naming the file and SQLite's reason.
std::unique_ptr<raind::db::Database> open_state(const std::string& state_dir);

} // namespace condenser
