#include "storage/mailbox_index.h"

#include <doctest/doctest.h>

#include <map>
#include <set>

#include "storage/message_writer.h"
#include "tests/unit/storage/user_fixture.h"

namespace postern::store {
namespace {

using namespace test_support;

std::uint32_t deliver_one(const UserPaths& p, const std::string& mailbox, const std::string& text) {
    auto w = MessageWriter::begin({Recipient{p, mailbox, 0, 0, 0}});
    POSTERN_ASSERT(w.ok());
    POSTERN_ASSERT(w->write(text).ok());
    auto r = w->commit();
    POSTERN_ASSERT(r.ok());
    return (*r)[0].uid;
}

std::vector<std::string> names(MailboxIndex& index) {
    std::vector<std::string> out;
    auto boxes = index.list_mailboxes();
    POSTERN_ASSERT(boxes.ok());
    for (const auto& b : *boxes)
        out.push_back(b.name);
    return out;
}

}  // namespace

TEST_CASE("index: a new user has INBOX and the special-use folders") {
    test::TempDir tmp;
    auto p = user_paths(tmp.path(), "john");
    auto index = open_index(p);
    auto boxes = index.list_mailboxes();
    REQUIRE(boxes.ok());
    std::map<std::string, std::string> special;
    for (const auto& b : *boxes)
        special[b.name] = b.special_use;
    CHECK(special == std::map<std::string, std::string>{{"Archive", "\\Archive"},
                                                        {"Drafts", "\\Drafts"},
                                                        {"INBOX", ""},
                                                        {"Junk", "\\Junk"},
                                                        {"Sent", "\\Sent"},
                                                        {"Trash", "\\Trash"}});
    for (const char* dir : {".Sent/cur", ".Drafts/new", ".Trash/tmp", "cur", "new", "tmp"}) {
        CAPTURE(dir);
        CHECK(std::filesystem::is_directory(p.maildir / dir));
    }
    // Reopening does not provision twice.
    auto again = open_index(p);
    CHECK(again.list_mailboxes()->size() == 6);
}

TEST_CASE("index: create, rename, delete mailboxes") {
    test::TempDir tmp;
    auto p = user_paths(tmp.path(), "john");
    auto index = open_index(p);
    auto work = index.create_mailbox("Work");
    REQUIRE(work.ok());
    CHECK(work->uidnext == 1);
    REQUIRE(index.create_mailbox("Work/2024").ok());
    CHECK(index.create_mailbox("work").ok());  // only INBOX is case-insensitive
    CHECK(index.create_mailbox("Work").error().code == StoreError::Exists);
    CHECK(index.create_mailbox("inbox").error().code == StoreError::Exists);
    CHECK(index.create_mailbox("../evil").error().code == StoreError::Invalid);
    CHECK(std::filesystem::is_directory(p.maildir / ".Work.2024" / "cur"));

    std::uint32_t uid = deliver_one(p, "Work/2024", "x");
    REQUIRE(index.rename_mailbox("Work", "Jobs").ok());
    CHECK(index.find_mailbox("Work").error().code == StoreError::NotFound);
    CHECK(index.find_mailbox("Jobs/2024").ok());
    CHECK(std::filesystem::is_directory(p.maildir / ".Jobs.2024" / "new"));
    CHECK_FALSE(std::filesystem::exists(p.maildir / ".Work.2024"));
    auto moved = index.list_messages("Jobs/2024");
    REQUIRE(moved->size() == 1);
    CHECK((*moved)[0].uid == uid);
    CHECK(index.rename_mailbox("Jobs", "work").error().code == StoreError::Exists);
    CHECK(std::filesystem::is_directory(p.maildir / ".Jobs"));  // failed rename undone
    CHECK(index.rename_mailbox("INBOX", "Old").error().code == StoreError::Invalid);

    CHECK(index.delete_mailbox("Jobs").error().code == StoreError::InUse);
    REQUIRE(index.delete_mailbox("Jobs/2024").ok());
    REQUIRE(index.delete_mailbox("Jobs").ok());
    CHECK_FALSE(std::filesystem::exists(p.maildir / ".Jobs.2024"));
    CHECK(index.delete_mailbox("INBOX").error().code == StoreError::Invalid);
    CHECK(index.delete_mailbox("Nope").error().code == StoreError::NotFound);
    CHECK(names(index) ==
          std::vector<std::string>{"Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash", "work"});
}

TEST_CASE("index: a recreated mailbox gets a greater UIDVALIDITY") {
    test::TempDir tmp;
    auto index = open_index(user_paths(tmp.path(), "john"));
    auto first = index.create_mailbox("Box");
    REQUIRE(first.ok());
    REQUIRE(index.delete_mailbox("Box").ok());
    auto second = index.create_mailbox("Box");
    REQUIRE(second.ok());
    CHECK_MESSAGE(second->uidvalidity > first->uidvalidity, "got ", second->uidvalidity,
                  ", want > ", first->uidvalidity);
}

TEST_CASE("index: set flags renames the file and bumps modseq") {
    test::TempDir tmp;
    auto p = user_paths(tmp.path(), "john");
    auto index = open_index(p);
    deliver_one(p, "INBOX", "one");
    deliver_one(p, "INBOX", "two");
    auto before = index.find_mailbox("INBOX");
    auto changed = index.set_flags("INBOX", {1, 2, 99}, kFlagSeen | kFlagFlagged, FlagMode::Add);
    REQUIRE(changed.ok());
    REQUIRE(changed->size() == 2);
    CHECK((*changed)[0].modseq > before->highestmodseq);
    CHECK((*changed)[0].modseq == (*changed)[1].modseq);
    CHECK(files_in(p.maildir / "new").empty());
    auto cur = files_in(p.maildir / "cur");
    REQUIRE(cur.size() == 2);
    CHECK(cur[0].ends_with(":2,FS"));
    auto msgs = index.list_messages("INBOX");
    CHECK((*msgs)[0].flags == (kFlagSeen | kFlagFlagged));
    auto path = index.message_path("INBOX", (*msgs)[0]);
    REQUIRE(path.ok());
    CHECK(read_file(*path) == "one");

    auto again = index.set_flags("INBOX", {1}, kFlagSeen | kFlagFlagged, FlagMode::Add);
    CHECK(again->empty());  // no change, no modseq bump
    auto removed = index.set_flags("INBOX", {1}, kFlagFlagged, FlagMode::Remove);
    REQUIRE(removed->size() == 1);
    CHECK((*removed)[0].flags == kFlagSeen);
    auto replaced = index.set_flags("INBOX", {2}, kFlagDeleted, FlagMode::Replace);
    CHECK((*replaced)[0].flags == kFlagDeleted);
    CHECK(index.set_flags("Nope", {1}, kFlagSeen, FlagMode::Add).error().code ==
          StoreError::NotFound);
}

TEST_CASE("index: message_path finds a file renamed behind the index's back") {
    test::TempDir tmp;
    auto p = user_paths(tmp.path(), "john");
    auto index = open_index(p);
    deliver_one(p, "INBOX", "body");
    auto name = files_in(p.maildir / "new")[0];
    std::filesystem::rename(p.maildir / "new" / name, p.maildir / "cur" / (name + ":2,S"));
    auto msgs = index.list_messages("INBOX");
    auto path = index.message_path("INBOX", (*msgs)[0]);
    REQUIRE(path.ok());
    CHECK(read_file(*path) == "body");
}

TEST_CASE("index: expunge deletes rows and files; usage follows") {
    test::TempDir tmp;
    auto p = user_paths(tmp.path(), "john");
    auto index = open_index(p);
    deliver_one(p, "INBOX", "12345");
    deliver_one(p, "INBOX", "123");
    deliver_one(p, "Sent", "1");
    CHECK(index.usage()->bytes == 9);
    CHECK(index.usage()->messages == 3);
    auto gone = index.expunge("INBOX", {1, 77});
    REQUIRE(gone.ok());
    CHECK(*gone == std::vector<std::uint32_t>{1});
    CHECK(files_in(p.maildir / "new").size() == 1);
    CHECK(index.list_messages("INBOX")->size() == 1);
    CHECK(index.usage()->bytes == 4);
    // A new message never reuses an expunged UID.
    CHECK(deliver_one(p, "INBOX", "z") == 3);
}

}  // namespace postern::store
