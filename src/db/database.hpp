// The one SQLite wrapper of the project (condenser state, image store metadata): RAII handles,
// transactions, prepared statements and numbered schema migrations.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace raind::db {

class Statement;

class Database {
public:
    explicit Database(const std::string& path); // opens (creating) in WAL mode with a busy timeout
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    // Applies the migrations past PRAGMA user_version, each in its own transaction, and records
    // how many ran. Entries are never edited once released; new ones are appended. Throws when
    // the file comes from a newer program (more migrations than it knows).
    void migrate(const std::vector<std::string_view>& migrations);
    int schema_version();
    Statement prepare(std::string_view sql);
    sqlite3* handle() const noexcept { return db_; }
    const std::string& path() const noexcept { return path_; }

private:
    sqlite3* db_ = nullptr;
    std::string path_;
};

// Commits on commit(), rolls back when destroyed before that.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();
    void commit();

private:
    Database& db_;
    bool done_ = false;
};

class Statement {
public:
    Statement(Database& db, std::string_view sql);
    ~Statement();
    Statement(Statement&& o) noexcept;
    Statement(const Statement&) = delete;

    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, int64_t value);
    bool step(); // true while a row is available
    void run();  // step to completion
    std::string text(int column) const;
    int64_t integer(int column) const;

private:
    Database* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

} // namespace raind::db
