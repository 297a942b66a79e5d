// IndexPool: exclusive leases, reuse of idle connections, the idle cap.
#include "storage/index_pool.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"

namespace postern::store {
namespace {

store::UserPaths user(const std::filesystem::path& root, const std::string& local) {
    auto p = store::DataDir(root).user("example.org", local);
    REQUIRE(p.ok());
    return *p;
}

TEST_CASE("index pool: a held connection is never handed out twice") {
    test::TempDir tmp;
    IndexPool pool;
    auto a = user(tmp.path(), "a");
    auto first = pool.lease(a);
    REQUIRE_MESSAGE(first.ok(), first.error().detail);
    auto second = pool.lease(a);
    REQUIRE_MESSAGE(second.ok(), second.error().detail);
    CHECK_MESSAGE(&first->index() != &second->index(), "got one connection leased twice");
    CHECK(first->index().find_mailbox("INBOX").ok());
    CHECK(second->index().find_mailbox("INBOX").ok());
    CHECK_MESSAGE(pool.idle_count() == 0, "got ", pool.idle_count(), " idle, want 0");
}

TEST_CASE("index pool: a dropped lease is reused, for its own user only") {
    test::TempDir tmp;
    IndexPool pool;
    auto a = user(tmp.path(), "a");
    auto b = user(tmp.path(), "b");
    {
        auto l = pool.lease(a);
        REQUIRE(l.ok());
    }
    CHECK_MESSAGE(pool.idle_count() == 1, "got ", pool.idle_count(), " idle, want 1");
    {
        auto other = pool.lease(b);  // a's idle connection is not b's
        REQUIRE(other.ok());
        CHECK(pool.idle_count() == 1);
        CHECK(other->index().paths().index_db == b.index_db);
        auto again = pool.lease(a);  // a's idle connection, taken out
        REQUIRE(again.ok());
        CHECK_MESSAGE(pool.idle_count() == 0, "got ", pool.idle_count(), " idle, want 0");
        CHECK(again->index().paths().index_db == a.index_db);
    }
    CHECK(pool.idle_count() == 2);
    // A moved-from lease gives nothing back twice.
    {
        auto l = pool.lease(a);
        REQUIRE(l.ok());
        IndexLease moved(std::move(*l));
        CHECK(pool.idle_count() == 1);
    }
    CHECK_MESSAGE(pool.idle_count() == 2, "got ", pool.idle_count(), " idle, want 2");
}

TEST_CASE("index pool: assigning over a lease gives the old one back") {
    test::TempDir tmp;
    IndexPool pool;
    auto a = user(tmp.path(), "a");
    auto b = user(tmp.path(), "b");
    IndexLease held;  // empty: nothing to give back
    {
        auto l = pool.lease(a);
        REQUIRE(l.ok());
        held = std::move(*l);
    }
    CHECK(pool.idle_count() == 0);
    CHECK(held->find_mailbox("INBOX").ok());
    auto other = pool.lease(b);
    REQUIRE(other.ok());
    held = std::move(*other);  // a's connection goes back, b's is held
    CHECK_MESSAGE(pool.idle_count() == 1, "got ", pool.idle_count(), " idle, want 1");
    CHECK(held->paths().home == b.home);
}

TEST_CASE("index pool: at most kMaxIdle idle connections are kept") {
    test::TempDir tmp;
    IndexPool pool;
    for (std::size_t i = 0; i < IndexPool::kMaxIdle + 3; ++i) {
        auto l = pool.lease(user(tmp.path(), "u" + std::to_string(i)));
        REQUIRE(l.ok());
    }
    CHECK_MESSAGE(pool.idle_count() == IndexPool::kMaxIdle, "got ", pool.idle_count(), ", want ",
                  IndexPool::kMaxIdle);
}

TEST_CASE("index pool: an unpooled lease just closes") {
    test::TempDir tmp;
    auto a = user(tmp.path(), "a");
    auto l = open_unpooled(a);
    REQUIRE_MESSAGE(l.ok(), l.error().detail);
    CHECK(l->index().find_mailbox("INBOX").ok());
}

TEST_CASE("index pool: an index that cannot be opened is an error, not a lease") {
    test::TempDir tmp;
    IndexPool pool;
    auto a = user(tmp.path(), "a");
    std::filesystem::create_directories(a.home.parent_path());
    {
        std::FILE* f = std::fopen(a.home.c_str(), "w");
        std::fclose(f);
    }  // home is a file
    auto l = pool.lease(a);
    CHECK_FALSE(l.ok());
    CHECK(pool.idle_count() == 0);
}

}  // namespace
}  // namespace postern::store
