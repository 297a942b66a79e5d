#include "storage/sqlite.h"

#include <unordered_map>
#include <utility>

#include "common/base/assert.h"

namespace postern::store {

class Connection {
  public:
    explicit Connection(sqlite3* db) : db_(db) {}
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;
    // Runs when the Db and every Statement are gone: nothing is in use.
    ~Connection() {
        for (auto& entry : idle_)
            sqlite3_finalize(entry.second);
        sqlite3_close_v2(db_);
    }

    sqlite3* db() const { return db_; }

    // An idle statement prepared from exactly `sql`, or nullptr.
    sqlite3_stmt* take(const std::string& sql) {
        auto it = idle_.find(sql);
        if (it == idle_.end()) return nullptr;
        sqlite3_stmt* stmt = it->second;
        idle_.erase(it);
        return stmt;
    }

    void give_back(std::string sql, sqlite3_stmt* stmt) {
        // reset ends a half-read query's read transaction, as finalize would.
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        if (idle_.size() >= kMaxIdleStatements) {
            sqlite3_finalize(stmt);
            return;
        }
        idle_.emplace(std::move(sql), stmt);
    }

  private:
    sqlite3* db_;
    // Several entries per text when the same query was open twice at once.
    std::unordered_multimap<std::string, sqlite3_stmt*> idle_;
};

namespace {

// A uniqueness violation means "already there"; any other constraint (NOT
// NULL, CHECK, foreign key) means the values were not acceptable.
StoreError code_of(int rc) {
    if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return StoreError::Exists;
    }
    if ((rc & 0xff) == SQLITE_CONSTRAINT) return StoreError::Invalid;
    return StoreError::Temp;
}

}  // namespace

Failure Db::failure(int rc, std::string_view what) const {
    std::string detail(what);
    detail += ": ";
    detail += handle() != nullptr ? sqlite3_errmsg(handle()) : sqlite3_errstr(rc);
    return Failure{code_of(rc), std::move(detail)};
}

sqlite3* Db::handle() const {
    return conn_ ? conn_->db() : nullptr;
}

StoreResult<Db> Db::open(const std::filesystem::path& path) {
    return open_with(path, "WAL");
}

StoreResult<Db> Db::open_without_wal(const std::filesystem::path& path) {
    return open_with(path, "DELETE");
}

StoreResult<Db> Db::open_with(const std::filesystem::path& path, const char* journal) {
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    Db db(std::make_shared<Connection>(raw));
    if (rc != SQLITE_OK) return fail(db.failure(rc, "open " + path.string()));
    sqlite3_extended_result_codes(raw, 1);
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    // synchronous=FULL: a commit is durable when it returns (the caller reports
    // success to a client right after).
    std::string pragmas = std::string("PRAGMA journal_mode=") + journal +
                          "; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;";
    if (auto st = db.exec(pragmas.c_str()); !st) return fail(st.error());
    return db;
}

StoreResult<Statement> Db::prepare(std::string_view sql) {
    std::string key(sql);
    if (sqlite3_stmt* reused = conn_->take(key)) return Statement(conn_, reused, std::move(key));
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(handle(), sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
    if (rc != SQLITE_OK) return fail(failure(rc, "prepare"));
    return Statement(conn_, stmt, std::move(key));
}

StoreStatus Db::exec(const char* sql) {
    int rc = sqlite3_exec(handle(), sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return fail(failure(rc, "exec"));
    return {};
}

std::int64_t Db::last_insert_id() const {
    return sqlite3_last_insert_rowid(handle());
}
int Db::changes() const {
    return sqlite3_changes(handle());
}

Statement::Statement(Statement&& other) noexcept
    : conn_(std::move(other.conn_)),
      stmt_(std::exchange(other.stmt_, nullptr)),
      sql_(std::move(other.sql_)),
      bind_rc_(other.bind_rc_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        release();
        conn_ = std::move(other.conn_);
        stmt_ = std::exchange(other.stmt_, nullptr);
        sql_ = std::move(other.sql_);
        bind_rc_ = other.bind_rc_;
    }
    return *this;
}

Statement::~Statement() {
    release();
}

void Statement::release() {
    if (stmt_ != nullptr) conn_->give_back(std::move(sql_), std::exchange(stmt_, nullptr));
    conn_.reset();
}

void Statement::note(int rc) {
    if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc;
}

int Statement::index_of(const char* name) const {
    int index = sqlite3_bind_parameter_index(stmt_, name);
    POSTERN_ASSERT(index > 0);
    return index;
}

Statement& Statement::bind(int index, std::int64_t value) {
    note(sqlite3_bind_int64(stmt_, index, value));
    return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
    // An empty string_view may have a null data(), which SQLite would bind as NULL.
    note(sqlite3_bind_text64(stmt_, index, text.empty() ? "" : text.data(), text.size(),
                             SQLITE_TRANSIENT, SQLITE_UTF8));
    return *this;
}

Statement& Statement::bind_blob(int index, std::string_view bytes) {
    // A zero-length blob must still be a blob, not NULL.
    note(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(), bytes.size(),
                             SQLITE_TRANSIENT));
    return *this;
}

Statement& Statement::bind_null(int index) {
    note(sqlite3_bind_null(stmt_, index));
    return *this;
}

Statement& Statement::bind(const char* name, std::int64_t value) {
    return bind(index_of(name), value);
}

Statement& Statement::bind(const char* name, std::string_view text) {
    return bind(index_of(name), text);
}

StoreResult<bool> Statement::step() {
    auto err = [&](int rc) {
        Failure f{code_of(rc), std::string("step: ") + sqlite3_errmsg(conn_->db())};
        return fail(std::move(f));
    };
    if (bind_rc_ != SQLITE_OK) return err(bind_rc_);
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return err(rc);
}

StoreStatus Statement::run() {
    auto r = step();
    if (!r) return fail(r.error());
    return {};
}

void Statement::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    bind_rc_ = SQLITE_OK;
}

std::int64_t Statement::column_int(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

std::string Statement::column_text(int column) const {
    // Works for text and blobs alike: bytes first, then their count.
    const void* data = sqlite3_column_blob(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    if (data == nullptr || size <= 0) return {};
    return std::string(static_cast<const char*>(data), static_cast<std::size_t>(size));
}

bool Statement::column_is_null(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

StoreResult<Transaction> Transaction::begin(Db& db) {
    if (auto st = db.exec("BEGIN IMMEDIATE"); !st) return fail(st.error());
    return Transaction(&db);
}

StoreStatus Transaction::commit() {
    POSTERN_ASSERT(db_ != nullptr);
    auto st = db_->exec("COMMIT");
    if (!st) return st;  // the destructor rolls back
    db_ = nullptr;
    return {};
}

Transaction::~Transaction() {
    if (db_ != nullptr) (void)db_->exec("ROLLBACK");
}

StoreResult<std::vector<std::string>> collect_text(Statement& stmt) {
    std::vector<std::string> out;
    while (true) {
        auto row = stmt.step();
        if (!row) return fail(row.error());
        if (!*row) return out;
        out.push_back(stmt.column_text(0));
    }
}

}  // namespace postern::store
