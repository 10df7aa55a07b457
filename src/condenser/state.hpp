// condenser's durable state: one SQLite database under the state root, written in transactions.
#pragma once

#include <sqlite3.h>

#include <string>

namespace condenser {

class Database {
public:
    // Opens (creating if needed) <state_dir>/condenser.db in WAL mode and brings its
    // schema up to date. Throws raind::Error naming the file and SQLite's reason.
    explicit Database(const std::string& state_dir);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(const std::string& sql);
    int schema_version();
    sqlite3* handle() { return db_; }
    const std::string& path() const { return path_; }

private:
    void migrate();

    std::string path_;
    sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE … COMMIT; rolls back unless commit() was called.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit();

private:
    Database& db_;
    bool done_ = false;
};

} // namespace condenser
