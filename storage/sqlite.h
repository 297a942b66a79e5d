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
// - Prepared statements are reused: a Statement that goes out of scope is
//   reset and kept by its connection, and prepare() with the same SQL text
//   takes it back instead of compiling the SQL again (compiling was a fifth
//   of mda's CPU per delivery). A Statement may outlive its Db; the
//   connection closes when the last of them is gone.
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

// A connection keeps at most this many unused prepared statements: more than
// the few dozen constant queries any daemon runs, so those stay compiled,
// while SQL built at run time (IN lists) cannot grow the cache without bound.
inline constexpr std::size_t kMaxIdleStatements = 64;

class Connection;  // sqlite.cpp: the sqlite3 handle and its idle statements

class Statement {
  public:
    Statement() = default;
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

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
    Statement(std::shared_ptr<Connection> conn, sqlite3_stmt* stmt, std::string sql)
        : conn_(std::move(conn)), stmt_(stmt), sql_(std::move(sql)) {}
    int index_of(const char* name) const;
    void note(int rc);
    // Hands the statement back to its connection for reuse.
    void release();

    std::shared_ptr<Connection> conn_;
    sqlite3_stmt* stmt_ = nullptr;
    std::string sql_;  // the text it was prepared from: the reuse key
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
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    StoreResult<Statement> prepare(std::string_view sql);
    // Constant SQL only (schema, pragmas); may hold several statements.
    StoreStatus exec(const char* sql);
    std::int64_t last_insert_id() const;
    int changes() const;

    // A failure from an SQLite result code, with the connection's message.
    Failure failure(int rc, std::string_view what) const;

  private:
    explicit Db(std::shared_ptr<Connection> conn) : conn_(std::move(conn)) {}
    static StoreResult<Db> open_with(const std::filesystem::path& path, const char* journal);
    sqlite3* handle() const;

    std::shared_ptr<Connection> conn_;
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
