#include "storage/store.h"

#include <doctest/doctest.h>

#include "tests/support/temp_dir.h"
#include "tests/unit/storage/user_fixture.h"

namespace postern::store {

TEST_CASE("store: add_user provisions the Maildir and index; delivery through the facade") {
    test::TempDir tmp;
    auto store = Store::open(tmp.path() / "data", PasswordParams::minimum_for_test());
    REQUIRE(store.ok());
    CHECK(std::filesystem::exists(tmp.path() / "data" / "directory.db"));
    REQUIRE(store->directory().add_domain("example.org").ok());
    auto user = store->add_user("Amy@Example.org", Secret<std::string>("pw"));
    REQUIRE_MESSAGE(user.ok(), user.error().detail);
    auto paths = store->paths_of(*user);
    REQUIRE(paths.ok());
    CHECK(paths->home == tmp.path() / "data" / "users" / "example.org" / "amy");
    CHECK(std::filesystem::is_directory(paths->maildir / ".Junk" / "cur"));
    CHECK(std::filesystem::exists(paths->index_db));

    REQUIRE(store->directory().set_quota("amy@example.org", Quota{0, 1}).ok());
    auto found = store->directory().find_user("amy@example.org");
    REQUIRE(found.ok());
    auto to = store->recipient(*found);
    REQUIRE(to.ok());
    CHECK(to->quota_messages == 1);
    auto w = store->begin_delivery({*to});
    REQUIRE(w.ok());
    REQUIRE(w->write("hello").ok());
    auto delivered = w->commit();
    REQUIRE(delivered.ok());
    CHECK((*delivered)[0].uid == 1);
    auto w2 = store->begin_delivery({*to});
    REQUIRE(w2.ok());
    REQUIRE(w2->write("again").ok());
    auto over = w2->commit();
    REQUIRE_FALSE(over.ok());
    CHECK(over.error().code == StoreError::NoQuota);

    CHECK(store->recipient(*found, "../x").error().code == StoreError::Invalid);
    auto stats = store->reindex_user(*found, nullptr);
    REQUIRE(stats.ok());
    CHECK(stats->messages == 1);
}

TEST_CASE("store: add_user errors leave no user behind") {
    test::TempDir tmp;
    auto store = Store::open(tmp.path(), PasswordParams::minimum_for_test());
    REQUIRE(store.ok());
    auto no_domain = store->add_user("amy@example.org", Secret<std::string>("pw"));
    REQUIRE_FALSE(no_domain.ok());
    CHECK(no_domain.error().code == StoreError::NotFound);
    REQUIRE(store->directory().add_domain("example.org").ok());
    // users/example.org is a file: provisioning fails, the user row is removed.
    std::filesystem::create_directories(tmp.path() / "users");
    {
        FILE* f = std::fopen((tmp.path() / "users" / "example.org").c_str(), "w");
        std::fclose(f);
    }
    auto broken = store->add_user("amy@example.org", Secret<std::string>("pw"));
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().code == StoreError::Temp);
    CHECK(store->directory().find_user("amy@example.org").error().code == StoreError::NotFound);
}

}  // namespace postern::store
