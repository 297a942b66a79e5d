// RAII wrappers over SQLite: Db, Statement and Transaction.
//
// Contract:
// - Every database is opened with WAL journaling, a busy timeout (so a second
//   writer waits instead of failing at once) and foreign keys on.
// - Values reach SQL only through bound parameters of prepared statements;
//   there is no API that builds SQL text from values. exec() is for constant
//   schema text only.
// - Errors become Failure values: a UNIQUE/PRIMARY KEY violation is Exists,
//   other constraints Invalid, everything else Temp (busy, I/O, full disk,
//   corruption), with SQLite's message as detail.
// - A Transaction that is not committed rolls back in its destructor.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/store_error.h"

namespace postern::store {

// How long a writer waits for another process's write lock before Temp.
// 5 s covers an fsync-heavy group commit on a slow disk; longer would only
// hold an SMTP/LMTP client that can retry on its own.
inline constexpr int kBusyTimeoutMs = 5000;

class Statement {
  public:
    Statement() = default;
    Statement(Statement&&) noexcept = default;
    Statement& operator=(Statement&&) noexcept = default;

    // Parameters are 1-based, as in SQLite. Text and blobs are copied.
    Statement& bind(int index, std::int64_t value);
    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind_null(int index);
    // Named parameters (":name"); binding an unknown name is a programming error.
    Statement& bind(const char* name, std::int64_t value);
    Statement& bind(const char* name, std::string_view text);

    // true: a row is available; false: done. A bind error surfaces here.
    StoreResult<bool> step();
    // Runs a statement that returns no rows.
    StoreStatus run();
    void reset();

    std::int64_t column_int(int column) const;
    std::string column_text(int column) const;
    bool column_is_null(int column) const;

  private:
    friend class Db;
    struct Finalize {
        void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
    };
    Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    int index_of(const char* name) const;
    void note(int rc);

    sqlite3* db_ = nullptr;
    std::unique_ptr<sqlite3_stmt, Finalize> stmt_;
    int bind_rc_ = SQLITE_OK;
};

class Db {
  public:
    // Opens (creating if needed) and configures the database.
    static StoreResult<Db> open(const std::filesystem::path& path);
    // As open(), but in rollback-journal mode: for a database built aside and
    // renamed into place (reindex), where a -wal file must not exist.
    static StoreResult<Db> open_without_wal(const std::filesystem::path& path);

    Db(Db&&) noexcept = default;
    Db& operator=(Db&&) noexcept = default;

    StoreResult<Statement> prepare(std::string_view sql);
    // Constant SQL only (schema, pragmas); may hold several statements.
    StoreStatus exec(const char* sql);
    std::int64_t last_insert_id() const;
    int changes() const;
    sqlite3* raw() const { return db_.get(); }

    // A failure from an SQLite result code, with the connection's message.
    Failure failure(int rc, std::string_view what) const;

  private:
    struct Close {
        void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
    };
    explicit Db(sqlite3* db) : db_(db) {}
    static StoreResult<Db> open_with(const std::filesystem::path& path, const char* journal);

    std::unique_ptr<sqlite3, Close> db_;
};

// BEGIN IMMEDIATE: takes the write lock up front, so a read-then-write
// transaction cannot fail with SQLITE_BUSY halfway through.
class Transaction {
  public:
    static StoreResult<Transaction> begin(Db& db);
    Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
    Transaction& operator=(Transaction&&) = delete;
    Transaction(const Transaction&) = delete;
    ~Transaction();

    StoreStatus commit();

  private:
    explicit Transaction(Db* db) : db_(db) {}
    Db* db_;
};

// Steps `stmt` to the end and returns its first column of every row as text.
StoreResult<std::vector<std::string>> collect_text(Statement& stmt);

}  // namespace postern::store
