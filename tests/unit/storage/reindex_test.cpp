#include "storage/reindex.h"

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
    w->set_summary("cached:" + text);
    auto r = w->commit();
    POSTERN_ASSERT(r.ok());
    return (*r)[0].uid;
}

struct Snapshot {
    std::uint32_t uid;
    Flags flags;
    std::uint64_t size;
    std::int64_t date;
    bool operator==(const Snapshot&) const = default;
};

std::vector<Snapshot> snapshot(MailboxIndex& index, const std::string& mailbox) {
    std::vector<Snapshot> out;
    auto msgs = index.list_messages(mailbox);
    POSTERN_ASSERT(msgs.ok());
    for (const auto& m : *msgs)
        out.push_back({m.uid, m.flags, m.size, m.internal_date});
    return out;
}

// A user with messages in two folders, some expunged, some flagged.
UserPaths populate(const std::filesystem::path& root) {
    auto p = user_paths(root, "john");
    auto index = open_index(p);
    POSTERN_ASSERT(index.create_mailbox("a.b/c").ok());
    for (int i = 0; i < 5; ++i)
        deliver_one(p, "INBOX", "m" + std::to_string(i));
    deliver_one(p, "a.b/c", "deep");
    POSTERN_ASSERT(index.set_flags("INBOX", {2, 4}, kFlagSeen, FlagMode::Add).ok());
    POSTERN_ASSERT(index.set_flags("INBOX", {4}, kFlagAnswered, FlagMode::Add).ok());
    POSTERN_ASSERT(index.expunge("INBOX", {5}).ok());
    return p;
}

}  // namespace

TEST_CASE("reindex: after deleting index.db, same UIDs and flags; new mail gets a greater UID") {
    test::TempDir tmp;
    auto p = populate(tmp.path());
    std::vector<Snapshot> inbox, deep;
    {
        auto index = open_index(p);
        inbox = snapshot(index, "INBOX");
        deep = snapshot(index, "a.b/c");
    }
    for (const char* f : {"index.db", "index.db-wal", "index.db-shm"}) {
        std::filesystem::remove(p.home / f);
    }
    auto stats =
        reindex(p, [](const std::filesystem::path& file) { return "re:" + read_file(file); });
    REQUIRE_MESSAGE(stats.ok(), stats.error().detail);
    CHECK_FALSE(stats->kept_uidvalidity);
    CHECK(stats->messages == 5);
    CHECK(stats->new_uids == 0);
    auto index = open_index(p);
    CHECK(snapshot(index, "INBOX") == inbox);
    CHECK(snapshot(index, "a.b/c") == deep);
    CHECK(*index.summary("INBOX", 2) == "re:m1");
    CHECK(index.find_mailbox("Sent")->special_use == "\\Sent");
    std::uint32_t next = deliver_one(p, "INBOX", "after");
    CHECK_MESSAGE(next > 4, "got uid ", next, ", want > 4");
}

TEST_CASE("reindex: with a readable index keeps UIDVALIDITY and UIDNEXT") {
    test::TempDir tmp;
    auto p = populate(tmp.path());
    MailboxInfo before;
    std::uint64_t counter = 0;
    {
        auto index = open_index(p);
        before = *index.find_mailbox("INBOX");
        counter = *index.change_counter();
    }
    auto stats = reindex(p, nullptr);
    REQUIRE(stats.ok());
    CHECK(stats->kept_uidvalidity);
    auto index = open_index(p);
    auto after = index.find_mailbox("INBOX");
    CHECK(after->uidvalidity == before.uidvalidity);
    CHECK(after->uidnext == before.uidnext);  // 6: the expunged 5 is not reused
    CHECK(after->highestmodseq > before.highestmodseq);
    CHECK(*index.change_counter() > counter);
    CHECK(index.summary("INBOX", 1)->empty());
    CHECK(deliver_one(p, "INBOX", "after") == 6);
}

TEST_CASE("reindex: foreign files get new UIDs above the max, written into their names") {
    test::TempDir tmp;
    auto p = populate(tmp.path());
    auto write = [](const std::filesystem::path& f, const char* text) {
        FILE* out = std::fopen(f.c_str(), "w");
        std::fputs(text, out);
        std::fclose(out);
    };
    write(p.maildir / "new" / "1000.foreign.host", "foreign");
    write(p.maildir / "cur" / "1001.foreign.host:2,S", "seen");
    // A copy carrying a UID that is already taken.
    auto taken = files_in(p.maildir / "cur")[0];
    std::filesystem::copy_file(p.maildir / "cur" / taken, p.maildir / "cur" / ("9" + taken));
    std::filesystem::remove(p.home / "index.db");
    auto stats = reindex(p, nullptr);
    REQUIRE(stats.ok());
    CHECK(stats->new_uids == 3);
    auto index = open_index(p);
    auto msgs = index.list_messages("INBOX");
    REQUIRE(msgs->size() == 7);
    std::set<std::uint32_t> uids;
    for (const auto& m : *msgs)
        uids.insert(m.uid);
    CHECK_MESSAGE(uids.size() == 7, "got duplicate UIDs");
    CHECK(*uids.rbegin() == 7);
    CHECK((*msgs)[5].flags == kFlagSeen);
    // Stable: a second reindex changes nothing.
    auto first = snapshot(index, "INBOX");
    REQUIRE(reindex(p, nullptr).ok());
    auto again = open_index(p);
    CHECK(snapshot(again, "INBOX") == first);
    CHECK(reindex(p, nullptr)->new_uids == 0);
}

}  // namespace postern::store
