#include "storage/data_dir.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace postern::store {
namespace {

// A path is inside base if, after normalization, base is a prefix of it and
// it is not base itself.
bool strictly_inside(const std::filesystem::path& base, const std::filesystem::path& p) {
    auto b = base.lexically_normal();
    auto n = p.lexically_normal();
    auto [bi, ni] = std::mismatch(b.begin(), b.end(), n.begin(), n.end());
    return bi == b.end() && ni != n.end() && std::distance(ni, n.end()) == 1;
}

}  // namespace

TEST_CASE("data_dir: hostile mailbox names are refused") {
    const std::string kHostile[] = {
        "",
        "../x",
        "a/../../b",
        "..",
        "a/..",
        "x/../../../etc",
        std::string("\x01"),
        std::string("a\0b", 3),
        "a\nb",
        "a\x7f",
        "/abs",
        "a//b",
        "a/",
        "/",
        ".",
        "a/./b",
        std::string(kMaxMailboxNameBytes + 1, 'a'),
    };
    for (const auto& name : kHostile) {
        CAPTURE(name);
        auto r = validate_mailbox_name(name);
        CHECK_MESSAGE(!r.ok(), "got accepted, want Invalid");
        if (!r.ok()) CHECK(r.error().code == StoreError::Invalid);
        CHECK_FALSE(folder_path("/data/Maildir", name).ok());
    }
}

TEST_CASE("data_dir: valid names map inside the Maildir") {
    struct Row {
        std::string name;
        std::string dir;
    };
    const Row kRows[] = {
        {"INBOX", ""},
        {"inbox", ""},
        {"Sent", ".Sent"},
        {"a/b", ".a.b"},
        {"a.b", ".a%2Eb"},
        {".hidden", ".%2Ehidden"},
        {"100%", ".100%25"},
        {"INBOX/child", ".INBOX.child"},
        {"Entwürfe", ".Entwürfe"},
        {"a b/c*", ".a b.c*"},
        {std::string(kMaxMailboxNameBytes, 'a'), "." + std::string(kMaxMailboxNameBytes, 'a')},
    };
    const std::filesystem::path maildir = "/data/users/x/y/Maildir";
    for (const auto& row : kRows) {
        CAPTURE(row.name);
        auto dir = folder_dir_name(row.name);
        REQUIRE(dir.ok());
        CHECK_MESSAGE(*dir == row.dir, "got ", *dir, ", want ", row.dir);
        auto path = folder_path(maildir, row.name);
        REQUIRE(path.ok());
        if (!row.dir.empty()) {
            CHECK(strictly_inside(maildir, *path));
            CHECK(dir->find('/') == std::string::npos);
            auto back = mailbox_name_from_dir(*dir);
            REQUIRE(back.has_value());
            CHECK(*back == *validate_mailbox_name(row.name));
        }
    }
}

TEST_CASE("data_dir: escaped name longer than NAME_MAX is refused") {
    // 100 dots would escape to 300 bytes.
    std::string dots;
    for (int i = 0; i < 90; ++i)
        dots += "a.";
    auto r = validate_mailbox_name(dots);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::Invalid);
}

TEST_CASE("data_dir: foreign directories are not mailboxes") {
    for (const char* dir :
         {"tmp", "new", "cur", ".", "..", "..deleted.123", ".a..b", ".a.%zz", ".a."}) {
        CAPTURE(dir);
        CHECK_FALSE(mailbox_name_from_dir(dir).has_value());
    }
}

TEST_CASE("data_dir: user paths") {
    DataDir dd("/data");
    auto p = dd.user("Example.ORG", "John.Doe");
    REQUIRE(p.ok());
    CHECK(p->home == "/data/users/example.org/john%2Edoe");
    CHECK(p->maildir == "/data/users/example.org/john%2Edoe/Maildir");
    CHECK(p->index_db == "/data/users/example.org/john%2Edoe/index.db");
    auto slash = dd.user("example.org", "a/b");
    REQUIRE(slash.ok());
    CHECK(strictly_inside("/data/users/example.org", slash->home));
    for (const char* local : {"..", ".", "../x", "a..b", "", "a b"}) {
        CAPTURE(local);
        auto bad = dd.user("example.org", local);
        REQUIRE_FALSE(bad.ok());
        CHECK(bad.error().code == StoreError::Invalid);
    }
    for (const char* domain : {"..", "../etc", "a/b", "", "-x.org", "x..org"}) {
        CAPTURE(domain);
        CHECK_FALSE(dd.user(domain, "john").ok());
    }
}

}  // namespace postern::store
