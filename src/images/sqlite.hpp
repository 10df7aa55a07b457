// A minimal RAII layer over sqlite3 for the image store's metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace raind::images {

class Statement;

class Database {
public:
    explicit Database(const std::string& path); // opens (creating) in WAL mode with a busy timeout
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
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

} // namespace raind::images
