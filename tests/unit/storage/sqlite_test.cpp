#include "storage/sqlite.h"

#include <doctest/doctest.h>

#include "storage/migrations.h"
#include "tests/support/temp_dir.h"

namespace postern::store {

TEST_CASE("sqlite: bound values are data, never SQL") {
    test::TempDir tmp;
    auto db = Db::open(tmp.path() / "t.db");
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)").ok());
    auto ins = db->prepare("INSERT INTO t (k, v) VALUES (?1, :v)");
    REQUIRE(ins.ok());
    std::string hostile = "x'); DROP TABLE t; --";
    ins->bind(1, hostile).bind(":v", std::int64_t{42});
    REQUIRE(ins->run().ok());
    auto sel = db->prepare("SELECT v FROM t WHERE k = ?1");
    REQUIRE(sel.ok());
    sel->bind(1, hostile);
    auto row = sel->step();
    REQUIRE(row.ok());
    REQUIRE(*row);
    CHECK(sel->column_int(0) == 42);
}

TEST_CASE("sqlite: constraint violation is Exists; uncommitted transaction rolls back") {
    test::TempDir tmp;
    auto db = Db::open(tmp.path() / "t.db");
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE t (k TEXT PRIMARY KEY)").ok());
    {
        auto tx = Transaction::begin(*db);
        REQUIRE(tx.ok());
        REQUIRE(db->exec("INSERT INTO t VALUES ('a')").ok());
    }  // no commit
    auto count = db->prepare("SELECT count(*) FROM t");
    REQUIRE(count.ok());
    REQUIRE(count->step().ok());
    CHECK_MESSAGE(count->column_int(0) == 0, "got ", count->column_int(0), " rows, want 0");
    REQUIRE(db->exec("INSERT INTO t VALUES ('b')").ok());
    auto dup = db->exec("INSERT INTO t VALUES ('b')");
    REQUIRE_FALSE(dup.ok());
    CHECK(dup.error().code == StoreError::Exists);
}

// Reads the single value `sql` returns, as text ("" for NULL).
static std::string value_of(Db& db, const char* sql) {
    auto stmt = db.prepare(sql);
    REQUIRE(stmt.ok());
    auto row = stmt->step();
    REQUIRE(row.ok());
    REQUIRE(*row);
    return stmt->column_text(0);
}

TEST_CASE("sqlite: a reused statement starts unbound and from the first row") {
    test::TempDir tmp;
    auto db = Db::open(tmp.path() / "t.db");
    REQUIRE(db.ok());
    {
        auto first = db->prepare("SELECT ?1");
        REQUIRE(first.ok());
        first->bind(1, "secret");
        REQUIRE(first->step().ok());
        CHECK(first->column_text(0) == "secret");
    }  // back to the connection, still bound before its reset
    auto again = db->prepare("SELECT ?1");
    REQUIRE(again.ok());
    REQUIRE(*again->step());
    CHECK_MESSAGE(again->column_is_null(0), "got ", again->column_text(0), ", want NULL");
}

TEST_CASE("sqlite: the same SQL open twice at once gives two independent statements") {
    test::TempDir tmp;
    auto db = Db::open(tmp.path() / "t.db");
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2), (3)").ok());
    const char* sql = "SELECT v FROM t ORDER BY v";
    auto outer = db->prepare(sql);
    REQUIRE(outer.ok());
    std::string pairs;
    while (*outer->step()) {
        auto inner = db->prepare(sql);  // nested: cannot be the outer one
        REQUIRE(inner.ok());
        REQUIRE(*inner->step());
        pairs += std::to_string(outer->column_int(0)) + std::to_string(inner->column_int(0)) + " ";
    }
    CHECK_MESSAGE(pairs == "11 21 31 ", "got ", pairs);
}

TEST_CASE("sqlite: a half-read statement given back releases its read lock") {
    // Rollback-journal mode, where a reader's SHARED lock blocks writers: if
    // the cached statement were not reset, the second connection's write
    // would wait out the busy timeout and fail.
    test::TempDir tmp;
    auto reader = Db::open_without_wal(tmp.path() / "t.db");
    REQUIRE(reader.ok());
    REQUIRE(reader->exec("CREATE TABLE t (v INTEGER); INSERT INTO t VALUES (1), (2)").ok());
    {
        auto half = reader->prepare("SELECT v FROM t");
        REQUIRE(half.ok());
        REQUIRE(*half->step());  // one row read, one left
    }
    auto writer = Db::open_without_wal(tmp.path() / "t.db");
    REQUIRE(writer.ok());
    REQUIRE(writer->exec("PRAGMA busy_timeout = 0").ok());
    auto st = writer->exec("INSERT INTO t VALUES (3)");
    CHECK_MESSAGE(st.ok(), "got ", st.ok() ? "" : st.error().detail);
    CHECK(value_of(*reader, "SELECT count(*) FROM t") == "3");
}

TEST_CASE("sqlite: a statement may outlive its Db") {
    test::TempDir tmp;
    Statement kept;
    {
        auto db = Db::open(tmp.path() / "t.db");
        REQUIRE(db.ok());
        auto stmt = db->prepare("SELECT 40 + 2");
        REQUIRE(stmt.ok());
        kept = std::move(*stmt);
    }
    REQUIRE(*kept.step());
    CHECK(kept.column_int(0) == 42);
}

TEST_CASE("sqlite: WAL and foreign keys are on") {
    test::TempDir tmp;
    auto db = Db::open(tmp.path() / "t.db");
    REQUIRE(db.ok());
    auto mode = db->prepare("PRAGMA journal_mode");
    REQUIRE(mode.ok());
    REQUIRE(mode->step().ok());
    CHECK(mode->column_text(0) == "wal");
    auto fk = db->prepare("PRAGMA foreign_keys");
    REQUIRE(fk.ok());
    REQUIRE(fk->step().ok());
    CHECK(fk->column_int(0) == 1);
}

TEST_CASE("migrations: run once, refuse a newer schema") {
    test::TempDir tmp;
    auto db = Db::open(tmp.path() / "d.db");
    REQUIRE(db.ok());
    auto first = migrate(*db, directory_migrations());
    REQUIRE(first.ok());
    CHECK(*first == 0);
    auto second = migrate(*db, directory_migrations());
    REQUIRE(second.ok());
    CHECK(*second == static_cast<int>(directory_migrations().size()));
    REQUIRE(db->exec("PRAGMA user_version=999").ok());
    auto newer = migrate(*db, directory_migrations());
    REQUIRE_FALSE(newer.ok());
    CHECK(newer.error().code == StoreError::Invalid);
}

}  // namespace postern::store
