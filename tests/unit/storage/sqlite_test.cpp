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
