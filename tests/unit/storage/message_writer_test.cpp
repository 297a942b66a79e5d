#include "storage/message_writer.h"

#include <doctest/doctest.h>

#include "tests/unit/storage/user_fixture.h"

namespace postern::store {
namespace {

using namespace test_support;

const std::string kMessage = "From: a@b.example\r\nSubject: hi\r\n\r\nbody\r\n";

StoreResult<std::vector<Delivered>> deliver(std::vector<Recipient> to, const std::string& text,
                                            FailPoint fail_at = FailPoint::None,
                                            std::size_t fail_recipient = 0) {
    auto w = MessageWriter::begin(std::move(to));
    if (!w) return fail(w.error());
    // Byte-sized chunks, then the rest: chunking must not matter.
    for (std::size_t i = 0; i < text.size() && i < 5; ++i) {
        if (auto st = w->write(text.substr(i, 1)); !st) return fail(st.error());
    }
    if (text.size() > 5) {
        if (auto st = w->write(text.substr(5)); !st) return fail(st.error());
    }
    w->set_summary("summary-blob");
    w->fail_at_for_test(fail_at, fail_recipient);
    return w->commit();
}

Recipient to(const UserPaths& p) {
    return Recipient{p, "INBOX", 0, 0, 0};
}

// Nothing of a message anywhere: tmp/, new/, cur/, and no index row.
void check_nothing(const UserPaths& p) {
    CHECK_MESSAGE(files_in(p.maildir / "tmp").empty(), "got files in tmp/, want none");
    CHECK_MESSAGE(files_in(p.maildir / "new").empty(), "got files in new/, want none");
    CHECK_MESSAGE(files_in(p.maildir / "cur").empty(), "got files in cur/, want none");
    auto index = open_index(p);
    auto msgs = index.list_messages("INBOX");
    REQUIRE(msgs.ok());
    CHECK_MESSAGE(msgs->empty(), "got ", msgs->size(), " index rows, want 0");
}

}  // namespace

TEST_CASE("delivery: file in new/ with ,S= and ,U=, and an index row") {
    test::TempDir tmp;
    auto john = user_paths(tmp.path(), "john");
    auto first = deliver({to(john)}, kMessage);
    REQUIRE_MESSAGE(first.ok(), first.error().detail);
    REQUIRE(first->size() == 1);
    CHECK((*first)[0].uid == 1);
    auto names = files_in(john.maildir / "new");
    REQUIRE(names.size() == 1);
    CHECK_MESSAGE(names[0].ends_with(",S=" + std::to_string(kMessage.size()) + ",U=1"), "got ",
                  names[0]);
    CHECK(read_file(john.maildir / "new" / names[0]) == kMessage);
    CHECK(files_in(john.maildir / "tmp").empty());

    auto second = deliver({to(john)}, kMessage + "2");
    REQUIRE(second.ok());
    CHECK_MESSAGE((*second)[0].uid == 2, "got uid ", (*second)[0].uid, ", want 2");

    auto index = open_index(john);
    auto msgs = index.list_messages("INBOX");
    REQUIRE(msgs.ok());
    REQUIRE(msgs->size() == 2);
    CHECK((*msgs)[0].uid == 1);
    CHECK((*msgs)[0].size == kMessage.size());
    CHECK((*msgs)[0].file == "new/" + names[0]);
    CHECK((*msgs)[1].modseq > (*msgs)[0].modseq);
    CHECK(*index.summary("INBOX", 1) == "summary-blob");
    auto box = index.find_mailbox("INBOX");
    CHECK(box->uidnext == 3);
    auto usage = index.usage();
    CHECK(usage->messages == 2);
    CHECK(usage->bytes == 2 * kMessage.size() + 1);
}

TEST_CASE("delivery: one message to three users is one file with three links") {
    test::TempDir tmp;
    auto a = user_paths(tmp.path(), "a");
    auto b = user_paths(tmp.path(), "b");
    auto c = user_paths(tmp.path(), "c");
    REQUIRE(deliver({to(b)}, "earlier").ok());  // b's next UID differs from a's
    auto r = deliver({to(a), to(b), to(c)}, kMessage);
    REQUIRE_MESSAGE(r.ok(), r.error().detail);
    REQUIRE(r->size() == 3);
    CHECK((*r)[0].uid == 1);
    CHECK((*r)[1].uid == 2);
    CHECK((*r)[2].uid == 1);
    for (const auto& d : *r) {
        CAPTURE(d.file.string());
        CHECK_MESSAGE(link_count(d.file) == 3, "got ", link_count(d.file), " links, want 3");
        CHECK(read_file(d.file) == kMessage);
    }
    CHECK(files_in(a.maildir / "tmp").empty());
}

TEST_CASE("delivery: flags put the message in cur/") {
    test::TempDir tmp;
    auto john = user_paths(tmp.path(), "john");
    auto r = deliver({Recipient{john, "Sent", kFlagSeen, 0, 0}}, kMessage);
    REQUIRE(r.ok());
    auto names = files_in(john.maildir / ".Sent" / "cur");
    REQUIRE(names.size() == 1);
    CHECK(names[0].ends_with(",U=1:2,S"));
    auto index = open_index(john);
    CHECK((*index.list_messages("Sent"))[0].flags == kFlagSeen);
}

TEST_CASE("delivery: abort without commit leaves nothing") {
    test::TempDir tmp;
    auto john = user_paths(tmp.path(), "john");
    {
        auto w = MessageWriter::begin({to(john)});
        REQUIRE(w.ok());
        REQUIRE(w->write(kMessage).ok());
        CHECK(files_in(john.maildir / "tmp").size() == 1);
    }
    check_nothing(john);
}

TEST_CASE("delivery: size limit is TooBig and leaves nothing") {
    test::TempDir tmp;
    auto john = user_paths(tmp.path(), "john");
    {
        auto w = MessageWriter::begin({to(john)}, DeliveryOptions{10, 0});
        REQUIRE(w.ok());
        REQUIRE(w->write("0123456789").ok());
        auto over = w->write("x");
        REQUIRE_FALSE(over.ok());
        CHECK(over.error().code == StoreError::TooBig);
        auto commit = w->commit();
        REQUIRE_FALSE(commit.ok());
        CHECK(commit.error().code == StoreError::TooBig);
    }
    check_nothing(john);
}

TEST_CASE("delivery: quota exceeded is NoQuota and writes nothing") {
    test::TempDir tmp;
    auto john = user_paths(tmp.path(), "john");
    auto amy = user_paths(tmp.path(), "amy");
    REQUIRE(deliver({to(john)}, kMessage).ok());
    struct Row {
        std::uint64_t bytes;
        std::uint64_t messages;
        bool fits;
    };
    const Row kRows[] = {
        {kMessage.size() * 2, 0, true},
        {kMessage.size() * 2 - 1, 0, false},
        {0, 2, true},
        {0, 1, false},
    };
    for (const auto& row : kRows) {
        CAPTURE(row.bytes);
        CAPTURE(row.messages);
        auto index = open_index(john);
        CHECK(check_quota(index, Recipient{john, "INBOX", 0, row.bytes, row.messages},
                          kMessage.size())
                  .ok() == row.fits);
    }
    auto before = files_in(john.maildir / "new");
    // amy has room, john does not: nobody gets the message.
    auto r = deliver({to(amy), Recipient{john, "INBOX", 0, 0, 1}}, kMessage);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::NoQuota);
    CHECK(files_in(john.maildir / "new") == before);
    CHECK(open_index(john).list_messages("INBOX")->size() == 1);
    check_nothing(amy);
}

TEST_CASE("delivery: a failure at any step leaves nothing, and UIDs still ascend") {
    struct Row {
        const char* name;
        FailPoint point;
        std::size_t recipient;
    };
    const Row kRows[] = {
        {"file fsync", FailPoint::FileFsync, 0},     {"first link", FailPoint::Link, 0},
        {"second link", FailPoint::Link, 1},         {"dir fsync", FailPoint::DirFsync, 0},
        {"first index row", FailPoint::IndexAdd, 0}, {"second index row", FailPoint::IndexAdd, 1},
    };
    for (const auto& row : kRows) {
        CAPTURE(row.name);
        test::TempDir tmp;
        auto a = user_paths(tmp.path(), "a");
        auto b = user_paths(tmp.path(), "b");
        auto r = deliver({to(a), to(b)}, kMessage, row.point, row.recipient);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == StoreError::Temp);
        check_nothing(a);
        check_nothing(b);
        auto ok = deliver({to(a)}, kMessage);
        REQUIRE(ok.ok());
        CHECK((*ok)[0].uid >= 1);
    }
}

TEST_CASE("delivery: a directory replaced by a file fails with nothing left") {
    test::TempDir tmp;
    auto a = user_paths(tmp.path(), "a");
    auto b = user_paths(tmp.path(), "b");
    REQUIRE(open_index(b).find_mailbox("INBOX").ok());
    std::filesystem::remove_all(b.maildir / "new");
    {
        FILE* f = std::fopen((b.maildir / "new").c_str(), "w");
        std::fclose(f);
    }
    auto r = deliver({to(a), to(b)}, kMessage);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::Temp);
    check_nothing(a);
}

TEST_CASE("delivery: unknown mailbox or no recipients") {
    test::TempDir tmp;
    auto a = user_paths(tmp.path(), "a");
    auto r = deliver({Recipient{a, "NoSuchFolder", 0, 0, 0}}, kMessage);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == StoreError::NotFound);
    check_nothing(a);
    auto none = MessageWriter::begin({});
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().code == StoreError::Invalid);
}

TEST_CASE("delivery: change feed counter increases per commit") {
    test::TempDir tmp;
    auto a = user_paths(tmp.path(), "a");
    auto index = open_index(a);
    auto start = index.change_counter();
    REQUIRE(start.ok());
    REQUIRE(deliver({to(a)}, kMessage).ok());
    auto one = index.change_counter();
    CHECK_MESSAGE(*one == *start + 1, "got ", *one, ", want ", *start + 1);
    // Fixed width (overwritten in place): 20 digits, zero-padded, and a newline.
    std::string want = std::to_string(*one);
    want = std::string(20 - want.size(), '0') + want + "\n";
    CHECK_MESSAGE(read_file(a.change_file) == want, "got ", read_file(a.change_file));
    REQUIRE(deliver({to(a)}, kMessage).ok());
    CHECK(*index.change_counter() == *start + 2);
    want = std::to_string(*start + 2);
    want = std::string(20 - want.size(), '0') + want + "\n";
    CHECK_MESSAGE(read_file(a.change_file) == want, "got ", read_file(a.change_file));
    REQUIRE(index.set_flags("INBOX", {1}, kFlagSeen, FlagMode::Add).ok());
    CHECK(*index.change_counter() == *start + 3);
}

}  // namespace postern::store

namespace postern::store {

TEST_CASE("delivery: across filesystems the message is copied, not linked") {
    test::TempDir tmp;
    auto a = test_support::user_paths(tmp.path(), "a");
    auto b = test_support::user_paths(tmp.path(), "b");
    auto r = deliver({to(a), to(b)}, kMessage, FailPoint::CrossDevice, 1);
    REQUIRE_MESSAGE(r.ok(), r.error().detail);
    CHECK(test_support::link_count((*r)[0].file) == 1);
    CHECK(test_support::link_count((*r)[1].file) == 1);
    CHECK(test_support::read_file((*r)[1].file) == kMessage);
    CHECK((*r)[1].file.filename().string().ends_with(",U=1"));
    CHECK(test_support::files_in(b.maildir / "tmp").empty());
}

}  // namespace postern::store

namespace postern::store {
namespace {

// As deliver(), with the caller's long-lived index handles (as mda passes).
StoreResult<std::vector<Delivered>> deliver_via(std::vector<Recipient> to,
                                                std::vector<MailboxIndex*> indexes,
                                                FailPoint fail_at = FailPoint::None,
                                                std::size_t fail_recipient = 0) {
    auto w = MessageWriter::begin(std::move(to), {}, std::move(indexes));
    if (!w) return fail(w.error());
    if (auto st = w->write(kMessage); !st) return fail(st.error());
    w->fail_at_for_test(fail_at, fail_recipient);
    return w->commit();
}

}  // namespace

TEST_CASE("delivery: the caller's index handles are used and stay usable") {
    test::TempDir tmp;
    auto a = test_support::user_paths(tmp.path(), "a");
    auto b = test_support::user_paths(tmp.path(), "b");
    auto ia = test_support::open_index(a);
    auto ib = test_support::open_index(b);
    for (std::uint32_t want = 1; want <= 3; ++want) {
        auto r = deliver_via({to(a), to(b)}, {&ia, &ib});
        REQUIRE_MESSAGE(r.ok(), r.error().detail);
        CHECK_MESSAGE((*r)[0].uid == want, "got uid ", (*r)[0].uid, ", want ", want);
        CHECK((*r)[1].uid == want);
        CHECK(test_support::link_count((*r)[0].file) == 2);
    }
    // The rows are visible through the same connections.
    CHECK(ia.list_messages("INBOX")->size() == 3);
    CHECK(ib.list_messages("INBOX")->size() == 3);
    CHECK(test_support::files_in(a.maildir / "tmp").empty());
    // SQLite deletes the WAL when the last connection closes; the caller's
    // is still open, so it must still be there.
    auto wal = a.index_db;
    wal += "-wal";
    CHECK_MESSAGE(std::filesystem::exists(wal), "got no ", wal.string(), ", want the WAL kept");
}

TEST_CASE("delivery: the wrong number of index handles is Invalid and creates nothing") {
    test::TempDir tmp;
    auto a = test_support::user_paths(tmp.path(), "a");
    auto b = test_support::user_paths(tmp.path(), "b");
    auto ia = test_support::open_index(a);
    auto r = deliver_via({to(a), to(b)}, {&ia});
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(r.error().code == StoreError::Invalid, "got ", r.error().detail);
    check_nothing(a);
}

TEST_CASE("delivery: with the caller's handles a failure at any step leaves nothing") {
    struct Row {
        const char* name;
        FailPoint point;
        std::size_t who;
    };
    // File and directory fsyncs are per delivery, not per recipient.
    const Row kRows[] = {
        {"file fsync", FailPoint::FileFsync, 0},     {"first link", FailPoint::Link, 0},
        {"second link", FailPoint::Link, 1},         {"dir fsync", FailPoint::DirFsync, 0},
        {"first index row", FailPoint::IndexAdd, 0}, {"second index row", FailPoint::IndexAdd, 1},
    };
    for (const auto& row : kRows) {
        CAPTURE(row.name);
        test::TempDir tmp;
        auto a = test_support::user_paths(tmp.path(), "a");
        auto b = test_support::user_paths(tmp.path(), "b");
        auto ia = test_support::open_index(a);
        auto ib = test_support::open_index(b);
        auto r = deliver_via({to(a), to(b)}, {&ia, &ib}, row.point, row.who);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code == StoreError::Temp);
        check_nothing(a);
        check_nothing(b);
        // The handles survive the failure; a skipped UID is never reused.
        auto ok = deliver_via({to(a)}, {&ia});
        REQUIRE_MESSAGE(ok.ok(), ok.error().detail);
        auto box = ia.find_mailbox("INBOX");
        REQUIRE(box.ok());
        CHECK_MESSAGE(box->uidnext == (*ok)[0].uid + 1, "got uidnext ", box->uidnext, " after uid ",
                      (*ok)[0].uid);
        CHECK_MESSAGE((*ok)[0].uid >= 2, "got uid ", (*ok)[0].uid,
                      ", want the failed delivery's reservation skipped");
    }
}

}  // namespace postern::store
