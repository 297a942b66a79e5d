#include "storage/directory.h"

#include <doctest/doctest.h>

#include "tests/support/temp_dir.h"

namespace postern::store {
namespace {

Secret<std::string> pw(const char* s) {
    return Secret<std::string>(s);
}

struct Fixture {
    test::TempDir tmp;
    Directory dir = open();

    Directory open() {
        auto d = Directory::open(tmp.path() / "directory.db", PasswordParams::minimum_for_test());
        POSTERN_ASSERT(d.ok());
        return std::move(d).value();
    }
    // Everything the directory holds, as text, to prove a failed call changed nothing.
    std::string dump() {
        std::string out;
        auto domains = dir.list_domains();
        auto users = dir.list_users();
        auto aliases = dir.list_aliases();
        POSTERN_ASSERT(domains.ok() && users.ok() && aliases.ok());
        for (const auto& d : *domains)
            out += "d:" + d + ";";
        for (const auto& u : *users) {
            out += "u:" + u.address() + ":" + u.password_hash + ":" +
                   std::to_string(u.quota.bytes) + "/" + std::to_string(u.quota.messages) + ";";
        }
        for (const auto& a : *aliases)
            out += "a:" + a.source + ">" + a.target + ";";
        return out;
    }
};

void check_code(const StoreStatus& st, StoreError want) {
    REQUIRE_MESSAGE(!st.ok(), "got success, want ", store_error_name(want));
    CHECK_MESSAGE(st.error().code == want, "got ", store_error_name(st.error().code), " (",
                  st.error().detail, "), want ", store_error_name(want));
}

template <typename T>
void check_code(const StoreResult<T>& r, StoreError want) {
    REQUIRE_MESSAGE(!r.ok(), "got success, want ", store_error_name(want));
    CHECK_MESSAGE(r.error().code == want, "got ", store_error_name(r.error().code), " (",
                  r.error().detail, "), want ", store_error_name(want));
}

}  // namespace

TEST_CASE("directory: domains") {
    Fixture f;
    REQUIRE(f.dir.add_domain("Example.ORG").ok());
    REQUIRE(f.dir.add_domain("b.example").ok());
    CHECK(*f.dir.list_domains() == std::vector<std::string>{"b.example", "example.org"});
    CHECK(*f.dir.domain_exists("EXAMPLE.org"));
    CHECK_FALSE(*f.dir.domain_exists("other.org"));
    std::string before = f.dump();
    check_code(f.dir.add_domain("example.org"), StoreError::Exists);
    check_code(f.dir.add_domain("bad domain"), StoreError::Invalid);
    check_code(f.dir.add_domain(""), StoreError::Invalid);
    check_code(f.dir.delete_domain("nope.org"), StoreError::NotFound);
    CHECK(f.dump() == before);
    REQUIRE(f.dir.delete_domain("b.example").ok());
    CHECK(*f.dir.list_domains() == std::vector<std::string>{"example.org"});
}

TEST_CASE("directory: deleting a domain in use fails and changes nothing") {
    Fixture f;
    REQUIRE(f.dir.add_domain("example.org").ok());
    REQUIRE(f.dir.add_user("john@example.org", pw("secret")).ok());
    std::string before = f.dump();
    check_code(f.dir.delete_domain("example.org"), StoreError::InUse);
    CHECK(f.dump() == before);
    REQUIRE(f.dir.delete_user("john@example.org").ok());
    REQUIRE(f.dir.add_alias("@example.org", "x@remote.net").ok());
    check_code(f.dir.delete_domain("example.org"), StoreError::InUse);
    REQUIRE(f.dir.delete_alias("@example.org").ok());
    CHECK(f.dir.delete_domain("example.org").ok());
}

TEST_CASE("directory: users") {
    Fixture f;
    REQUIRE(f.dir.add_domain("example.org").ok());
    auto john = f.dir.add_user("John.Doe@Example.Org", pw("secret"));
    REQUIRE(john.ok());
    CHECK(john->address() == "John.Doe@example.org");
    auto found = f.dir.find_user("john.doe@EXAMPLE.ORG");
    REQUIRE(found.ok());
    CHECK(found->local == "John.Doe");
    CHECK(verify_password(found->password_hash, pw("secret")));
    REQUIRE(f.dir.set_password("JOHN.DOE@example.org", pw("new one")).ok());
    found = f.dir.find_user("john.doe@example.org");
    CHECK_FALSE(verify_password(found->password_hash, pw("secret")));
    CHECK(verify_password(found->password_hash, pw("new one")));
    REQUIRE(f.dir.set_quota("john.doe@example.org", Quota{1000, 10}).ok());
    found = f.dir.find_user("john.doe@example.org");
    CHECK(found->quota.bytes == 1000);
    CHECK(found->quota.messages == 10);
    REQUIRE(f.dir.add_user("amy@example.org", pw("x")).ok());
    auto users = f.dir.list_users("example.org");
    REQUIRE(users.ok());
    REQUIRE(users->size() == 2);
    CHECK((*users)[0].local == "amy");
    REQUIRE(f.dir.delete_user("AMY@example.org").ok());
    check_code(f.dir.find_user("amy@example.org"), StoreError::NotFound);
}

TEST_CASE("directory: every bad user call fails and changes nothing") {
    Fixture f;
    REQUIRE(f.dir.add_domain("example.org").ok());
    REQUIRE(f.dir.add_user("john@example.org", pw("secret")).ok());
    std::string before = f.dump();
    check_code(f.dir.add_user("JOHN@example.org", pw("other")), StoreError::Exists);
    check_code(f.dir.add_user("amy@unknown.org", pw("x")), StoreError::NotFound);
    check_code(f.dir.add_user("amy@example.org", pw("")), StoreError::Invalid);
    for (const char* bad : {"no-at-sign", "@example.org", "a..b@example.org", ".a@example.org",
                            "a b@example.org", "amy@", "amy@bad_domain", "\"q\"@example.org"}) {
        CAPTURE(bad);
        check_code(f.dir.add_user(bad, pw("x")), StoreError::Invalid);
    }
    check_code(f.dir.delete_user("amy@example.org"), StoreError::NotFound);
    check_code(f.dir.set_password("amy@example.org", pw("x")), StoreError::NotFound);
    check_code(f.dir.set_password("john@example.org", pw("")), StoreError::Invalid);
    check_code(f.dir.set_password_hash("john@example.org", ""), StoreError::Invalid);
    check_code(f.dir.set_quota("amy@example.org", Quota{1, 1}), StoreError::NotFound);
    check_code(f.dir.set_quota("john@example.org", Quota{~0ull, 1}), StoreError::Invalid);
    CHECK(f.dump() == before);
}

TEST_CASE("directory: aliases and catch-all") {
    Fixture f;
    REQUIRE(f.dir.add_domain("example.org").ok());
    REQUIRE(f.dir.add_alias("Sales@example.org", "amy@example.org").ok());
    REQUIRE(f.dir.add_alias("sales@EXAMPLE.org", "bob@remote.net").ok());
    REQUIRE(f.dir.add_alias("@example.org", "postmaster@example.org").ok());
    auto targets = f.dir.find_alias_targets("SALES@example.org");
    REQUIRE(targets.ok());
    CHECK(*targets == std::vector<std::string>{"amy@example.org", "bob@remote.net"});
    CHECK(f.dir.find_alias_targets("nobody@example.org")->empty());
    CHECK(*f.dir.find_catch_all("Example.org") ==
          std::vector<std::string>{"postmaster@example.org"});
    auto all = f.dir.list_aliases();
    REQUIRE(all.ok());
    REQUIRE(all->size() == 3);
    CHECK((*all)[0].source == "@example.org");

    std::string before = f.dump();
    check_code(f.dir.add_alias("sales@example.org", "amy@example.org"), StoreError::Exists);
    check_code(f.dir.add_alias("x@unknown.org", "amy@example.org"), StoreError::NotFound);
    check_code(f.dir.add_alias("x@example.org", "not an address"), StoreError::Invalid);
    check_code(f.dir.add_alias("bad alias@example.org", "a@b.org"), StoreError::Invalid);
    check_code(f.dir.delete_alias("nobody@example.org"), StoreError::NotFound);
    check_code(f.dir.delete_alias("sales@example.org", "zed@example.org"), StoreError::NotFound);
    CHECK(f.dump() == before);

    REQUIRE(f.dir.delete_alias("sales@example.org", "bob@remote.net").ok());
    CHECK(*f.dir.find_alias_targets("sales@example.org") ==
          std::vector<std::string>{"amy@example.org"});
    REQUIRE(f.dir.delete_alias("sales@example.org").ok());
    CHECK(f.dir.find_alias_targets("sales@example.org")->empty());
}

TEST_CASE("directory: survives reopening") {
    test::TempDir tmp;
    {
        auto d = Directory::open(tmp.path() / "directory.db", PasswordParams::minimum_for_test());
        REQUIRE(d.ok());
        REQUIRE(d->add_domain("example.org").ok());
        REQUIRE(d->add_user("john@example.org", pw("pw")).ok());
    }
    auto d = Directory::open(tmp.path() / "directory.db", PasswordParams::minimum_for_test());
    REQUIRE(d.ok());
    CHECK(d->find_user("john@example.org").ok());
}

}  // namespace postern::store
