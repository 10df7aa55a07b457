#include "state.hpp"

#include <sys/stat.h>

#include <array>

#include "error.hpp"

namespace condenser {
namespace {

// Schema migrations, applied in order; PRAGMA user_version records how many ran.
// Later capabilities append here; an entry is never edited once released.
constexpr std::array<const char*, 1> migrations = {
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};

} // namespace

Database::Database(const std::string& state_dir) : path_(state_dir + "/condenser.db") {
    if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST)
        raind::throw_errno("create state directory " + state_dir);
    int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) {
        std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw raind::Error("open database " + path_ + ": " + why);
    }
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
    migrate();
}

Database::~Database() { sqlite3_close(db_); }

void Database::exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string why = message ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        throw raind::Error("database " + path_ + ": " + why);
    }
}

int Database::schema_version() {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr) != SQLITE_OK)
        throw raind::Error("database " + path_ + ": " + sqlite3_errmsg(db_));
    int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    sqlite3_finalize(stmt);
    return version;
}

void Database::migrate() {
    int version = schema_version();
    if (version > static_cast<int>(migrations.size()))
        throw raind::Error("database " + path_ + " has schema version " + std::to_string(version) +
                           ", newer than this condenser understands (" + std::to_string(migrations.size()) + ")");
    for (auto i = static_cast<size_t>(version); i < migrations.size(); ++i) {
        Transaction tx(*this);
        exec(migrations[i]);
        exec("PRAGMA user_version=" + std::to_string(i + 1));
        tx.commit();
    }
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
    if (!done_)
        sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

} // namespace condenser
