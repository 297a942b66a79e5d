#include "storage/login.h"

#include <doctest/doctest.h>

#include "tests/support/temp_dir.h"

namespace postern::store {
namespace {

Secret<std::string> pw(const char* s) {
    return Secret<std::string>(s);
}

struct Fixture {
    test::TempDir tmp;
    std::filesystem::path db = tmp.path() / "directory.db";
    Fixture() {
        auto dir = Directory::open(db, PasswordParams::minimum_for_test());
        REQUIRE(dir.ok());
        REQUIRE(dir->add_domain("example.org").ok());
        REQUIRE(dir->add_user("Amy@example.org", pw("first password")).ok());
    }
    void change_password(const char* to) {
        auto dir = Directory::open(db, PasswordParams::minimum_for_test());
        REQUIRE(dir.ok());
        REQUIRE(dir->set_password("amy@example.org", pw(to)).ok());
    }
};

using Kind = LoginResult::Kind;

}  // namespace

TEST_CASE("login: the right password logs in, as the canonical address") {
    Fixture f;
    auto r = verify_login(f.db, "AMY@Example.ORG", pw("first password"), nullptr);
    REQUIRE(r.kind == Kind::Ok);
    CHECK_MESSAGE(r.user->address() == "Amy@example.org", "got ", r.user->address());
}

TEST_CASE("login: a wrong password and an unknown user look the same") {
    Fixture f;
    CHECK(verify_login(f.db, "amy@example.org", pw("wrong"), nullptr).kind == Kind::BadCredentials);
    CHECK(verify_login(f.db, "ghost@example.org", pw("x"), nullptr).kind == Kind::BadCredentials);
    CHECK(verify_login(f.db, "not an address", pw("x"), nullptr).kind == Kind::BadCredentials);
    const std::string huge(kMaxPasswordBytes + 1, 'x');
    CHECK(verify_login(f.db, "amy@example.org", Secret<std::string>(huge), nullptr).kind ==
          Kind::BadCredentials);
}

TEST_CASE("login: an unreadable directory is a temporary failure") {
    Fixture f;
    auto r = verify_login(f.tmp.path() / "missing" / "directory.db", "amy@example.org",
                          pw("first password"), nullptr);
    CHECK(r.kind == Kind::Temp);
    CHECK_FALSE(r.detail.empty());
}

TEST_CASE("login: the cache answers repeat logins and forgets a changed password") {
    Fixture f;
    AuthCache cache(std::chrono::seconds(300));
    CHECK(verify_login(f.db, "amy@example.org", pw("first password"), &cache).detail.empty());
    auto again = verify_login(f.db, "amy@example.org", pw("first password"), &cache);
    CHECK(again.kind == Kind::Ok);
    CHECK_MESSAGE(again.detail == "cached", "got '", again.detail, "', want 'cached'");
    // A wrong password never hits the cache.
    CHECK(verify_login(f.db, "amy@example.org", pw("first passwore"), &cache).kind ==
          Kind::BadCredentials);
    f.change_password("second password");
    CHECK(verify_login(f.db, "amy@example.org", pw("first password"), &cache).kind ==
          Kind::BadCredentials);
    CHECK(verify_login(f.db, "amy@example.org", pw("second password"), &cache).kind == Kind::Ok);
}

TEST_CASE("login: a disabled cache remembers nothing") {
    Fixture f;
    AuthCache cache(std::chrono::seconds(0));
    CHECK_FALSE(cache.enabled());
    CHECK(verify_login(f.db, "amy@example.org", pw("first password"), &cache).kind == Kind::Ok);
    CHECK(verify_login(f.db, "amy@example.org", pw("first password"), &cache).detail.empty());
}

}  // namespace postern::store
