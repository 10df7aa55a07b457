#include "database.hpp"

#include <sqlite3.h>

#include "error.hpp"

namespace raind::db {

namespace {
[[noreturn]] void fail(sqlite3* db, const std::string& path, std::string_view what) {
    throw Error("database " + path + ": " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}
} // namespace

Database::Database(const std::string& path) : path_(path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        nullptr) != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
        sqlite3_close(db_);
        db_ = nullptr;
        throw Error("database " + path + ": open: " + msg);
    }
    sqlite3_busy_timeout(db_, 10000);
    exec("PRAGMA journal_mode=WAL");
    exec("PRAGMA foreign_keys=ON");
    exec("PRAGMA synchronous=NORMAL");
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(std::string_view sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
        std::string msg = err ? err : "unknown error";
        sqlite3_free(err);
        throw Error("database " + path_ + ": " + std::string(sql.substr(0, 40)) + ": " + msg);
    }
}

int Database::schema_version() {
    Statement version(*this, "PRAGMA user_version");
    return version.step() ? static_cast<int>(version.integer(0)) : 0;
}

void Database::migrate(const std::vector<std::string_view>& migrations) {
    int version = schema_version();
    if (version > static_cast<int>(migrations.size()))
        throw Error("database " + path_ + " has schema version " + std::to_string(version) +
                    ", newer than this program understands (" + std::to_string(migrations.size()) + ")");
    for (auto i = static_cast<size_t>(version); i < migrations.size(); ++i) {
        Transaction tx(*this);
        exec(migrations[i]);
        exec("PRAGMA user_version=" + std::to_string(i + 1));
        tx.commit();
    }
}

Statement Database::prepare(std::string_view sql) { return Statement(*this, sql); }

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
    if (!done_)
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

Statement::Statement(Database& db, std::string_view sql) : db_(&db) {
    if (sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
        fail(db.handle(), db.path(), "prepare " + std::string(sql));
}
Statement::~Statement() { sqlite3_finalize(stmt_); }
Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

Statement& Statement::bind(int index, std::string_view value) {
    if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK)
        fail(db_->handle(), db_->path(), "bind");
    return *this;
}
Statement& Statement::bind(int index, int64_t value) {
    if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK)
        fail(db_->handle(), db_->path(), "bind");
    return *this;
}
bool Statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    fail(db_->handle(), db_->path(), "step");
}
void Statement::run() {
    while (step()) {
    }
}
std::string Statement::text(int column) const {
    auto p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
}
int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }

} // namespace raind::db
