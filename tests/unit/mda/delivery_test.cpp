// Delivery against a real store in a temp dir: byte-exact storage of odd
// mail, hard links, quota, size, loops, and injected disk failures that must
// leave nothing behind.
#include "mda/delivery.h"
#include "mda/delivery_backend.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "common/mail/message_summary.h"
#include "mda/trace.h"
#include "tests/support/temp_dir.h"

namespace postern::mda {
namespace {

struct Fixture {
    test::TempDir tmp;
    store::Store store = open_store(tmp.path());
    DeliverySettings settings;

    Fixture() {
        REQUIRE(store.directory().add_domain("example.org").ok());
        for (const char* u : {"alice@example.org", "bob@example.org"}) {
            auto user = store.add_user(u, Secret<std::string>("password-1234"));
            REQUIRE_MESSAGE(user.ok(), user.error().detail);
        }
    }
    static store::Store open_store(const std::filesystem::path& root) {
        auto s = store::Store::open(root, store::PasswordParams::minimum_for_test());
        REQUIRE_MESSAGE(s.ok(), s.error().detail);
        return std::move(*s);
    }
    store::UserPaths paths(const char* address) {
        auto user = store.directory().find_user(address);
        REQUIRE(user.ok());
        auto p = store.paths_of(*user);
        REQUIRE(p.ok());
        return *p;
    }
    std::vector<RecipientResult> deliver(std::vector<std::string> rcpts, std::string_view message,
                                         std::string sender = "sender@remote.example") {
        Deliverer d(store, settings);
        d.fail_at_for_test(fail_point);
        return d.deliver(Envelope{std::move(sender), std::move(rcpts), {}}, message);
    }
    std::vector<store::MessageInfo> messages(const char* address, const char* box = "INBOX") {
        auto user = store.directory().find_user(address);
        REQUIRE(user.ok());
        auto index = store.open_index(*user);
        REQUIRE(index.ok());
        auto list = index->list_messages(box);
        REQUIRE(list.ok());
        return *list;
    }
    store::FailPoint fail_point = store::FailPoint::None;
};

std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

std::size_t count_files(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir))
        ++n;
    return n;
}

// Nothing visible for the user: new/, cur/ and tmp/ empty, no index row.
void check_nothing_delivered(Fixture& f, const char* address) {
    auto p = f.paths(address);
    for (const char* sub : {"new", "cur", "tmp"}) {
        CHECK_MESSAGE(count_files(p.maildir / sub) == 0,
                      "got files in " << sub << "/ of " << address << ", want none");
    }
    CHECK_MESSAGE(f.messages(address).empty(), "got index rows for " << address << ", want none");
}

std::string deep_mime(int depth) {
    std::string m = "MIME-Version: 1.0\r\n";
    for (int i = 0; i < depth; ++i) {
        m += "Content-Type: multipart/mixed; boundary=\"b" + std::to_string(i) + "\"\r\n\r\n--b" +
             std::to_string(i) + "\r\n";
    }
    m += "Content-Type: text/plain\r\n\r\ndeep\r\n";
    for (int i = depth - 1; i >= 0; --i)
        m += "--b" + std::to_string(i) + "--\r\n";
    return m;
}

TEST_CASE("delivery: odd mail is stored byte for byte behind the trace fields") {
    struct Row {
        const char* name;
        std::string message;
    };
    const Row rows[] = {
        {"plain CRLF", "Subject: hi\r\n\r\nbody\r\n"},
        {"bare LF line endings", "Subject: hi\nFrom: a@b\n\nbody\n.\n"},
        {"mixed line endings", "Subject: hi\r\nX: y\n\r\nbody\rmore\n"},
        {"NUL bytes", std::string("Subject: n\r\n\r\nbefore\0after\r\n", 26)},
        {"line over 998 octets", "Subject: long\r\n\r\n" + std::string(5000, 'x') + "\r\n"},
        {"no header/body separator", "Subject: only a header\r\nX-Other: y\r\n"},
        {"no header at all", "just text, no colon\r\nmore\r\n"},
        {"8-bit header", "Subject: gr\xc3\xbc\xc3\x9f dich \xff\xfe\r\n\r\nbody\r\n"},
        {"malformed MIME", "MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n"},
        {"MIME nested past the depth limit", deep_mime(60)},
        {"empty message", ""},
        {"no final newline", "Subject: x\r\n\r\nno newline at end"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        Fixture f;
        auto results = f.deliver({"alice@example.org"}, row.message);
        REQUIRE(results.size() == 1);
        CHECK_MESSAGE(results[0].outcome.status == DeliveryStatus::Delivered,
                      "got " << status_name(results[0].outcome.status) << " ("
                             << results[0].outcome.detail << "), want delivered");
        REQUIRE(results[0].delivered.size() == 1);
        std::string stored = read_file(results[0].delivered[0].file);
        std::string nl(scan_trace(row.message).newline);
        std::string want = "Return-Path: <sender@remote.example>" + nl +
                           "Delivered-To: alice@example.org" + nl + row.message;
        CHECK_MESSAGE(stored == want, "stored bytes differ from trace fields + message");
        auto rows_in_index = f.messages("alice@example.org");
        REQUIRE(rows_in_index.size() == 1);
        CHECK(rows_in_index[0].size == want.size());
    }
}

TEST_CASE("delivery: the summary in the index is that of the stored file") {
    Fixture f;
    std::string msg =
        "From: Ann <ann@x.example>\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\n"
        "one\r\n--zz--\r\n";
    auto results = f.deliver({"alice@example.org"}, msg);
    REQUIRE(results[0].delivered.size() == 1);
    auto user = f.store.directory().find_user("alice@example.org");
    auto index = f.store.open_index(*user);
    REQUIRE(index.ok());
    auto summary = index->summary("INBOX", results[0].delivered[0].uid);
    REQUIRE(summary.ok());
    auto parsed = mail::parse_summary(*summary);
    REQUIRE(parsed.ok());
    auto want = mail::summarize(read_file(results[0].delivered[0].file));
    CHECK(*parsed == want);
    CHECK(parsed->envelope.find("\"s\"") != std::string::npos);
}

TEST_CASE("delivery: one RCPT fanning out to several users is one inode, hard-linked") {
    Fixture f;
    REQUIRE(f.store.directory().add_alias("team@example.org", "alice@example.org").ok());
    REQUIRE(f.store.directory().add_alias("team@example.org", "bob@example.org").ok());
    auto results = f.deliver({"team@example.org"}, "Subject: t\r\n\r\nb\r\n");
    REQUIRE(results[0].outcome.status == DeliveryStatus::Delivered);
    REQUIRE(results[0].delivered.size() == 2);
    struct stat a {
    }, b{};
    REQUIRE(::stat(results[0].delivered[0].file.c_str(), &a) == 0);
    REQUIRE(::stat(results[0].delivered[1].file.c_str(), &b) == 0);
    CHECK(a.st_ino == b.st_ino);
    CHECK_MESSAGE(a.st_nlink == 2, "got " << a.st_nlink << " links, want 2");
    CHECK(read_file(results[0].delivered[0].file).find("Delivered-To: team@example.org\r\n") !=
          std::string::npos);
}

TEST_CASE("delivery: per-recipient results in one transaction") {
    Fixture f;
    auto results =
        f.deliver({"alice@example.org", "nobody@example.org", "bob@example.org"}, "S: x\r\n\r\n");
    REQUIRE(results.size() == 3);
    CHECK(results[0].outcome.status == DeliveryStatus::Delivered);
    CHECK(results[1].outcome.status == DeliveryStatus::UnknownUser);
    CHECK(results[2].outcome.status == DeliveryStatus::Delivered);
    CHECK(f.messages("alice@example.org").size() == 1);
    CHECK(f.messages("bob@example.org").size() == 1);
}

TEST_CASE("delivery: plus-addressing files into the folder") {
    Fixture f;
    auto results = f.deliver({"alice+Sent@example.org"}, "S: x\r\n\r\n");
    REQUIRE(results[0].outcome.status == DeliveryStatus::Delivered);
    CHECK(f.messages("alice@example.org", "Sent").size() == 1);
    CHECK(f.messages("alice@example.org").empty());
}

TEST_CASE("delivery: over quota writes nothing; temporary or permanent per config") {
    for (auto policy : {config::OverQuota::Temporary, config::OverQuota::Permanent}) {
        Fixture f;
        f.settings.over_quota = policy;
        REQUIRE(f.store.directory().set_quota("alice@example.org", {100, 0}).ok());
        auto results = f.deliver({"alice@example.org", "bob@example.org"},
                                 "Subject: big\r\n\r\n" + std::string(200, 'x') + "\r\n");
        auto want = policy == config::OverQuota::Temporary ? DeliveryStatus::OverQuotaTemp
                                                           : DeliveryStatus::OverQuotaPerm;
        CHECK_MESSAGE(results[0].outcome.status == want,
                      "got " << status_name(results[0].outcome.status));
        check_nothing_delivered(f, "alice@example.org");
        CHECK(results[1].outcome.status == DeliveryStatus::Delivered);
    }
    Fixture f;
    REQUIRE(f.store.directory().set_quota("alice@example.org", {0, 1}).ok());
    CHECK(f.deliver({"alice@example.org"}, "S: 1\r\n\r\n")[0].outcome.status ==
          DeliveryStatus::Delivered);
    CHECK(f.deliver({"alice@example.org"}, "S: 2\r\n\r\n")[0].outcome.status ==
          DeliveryStatus::OverQuotaTemp);
    CHECK(f.messages("alice@example.org").size() == 1);
}

TEST_CASE("delivery: a message over the maximum is refused and nothing is written") {
    Fixture f;
    f.settings.max_message_bytes = 1024;
    auto results = f.deliver({"alice@example.org"}, "S: x\r\n\r\n" + std::string(2000, 'y'));
    CHECK(results[0].outcome.status == DeliveryStatus::TooBig);
    check_nothing_delivered(f, "alice@example.org");
}

TEST_CASE("delivery: mail loops are refused") {
    Fixture f;
    REQUIRE(f.store.directory().add_alias("team@example.org", "alice@example.org").ok());
    std::string ours = "Delivered-To: Alice@Example.org\r\nSubject: x\r\n\r\nb\r\n";
    auto r = f.deliver({"alice@example.org", "bob@example.org", "team@example.org"}, ours);
    CHECK(r[0].outcome.status == DeliveryStatus::MailLoop);
    CHECK(r[1].outcome.status == DeliveryStatus::Delivered);
    CHECK_MESSAGE(r[2].outcome.status == DeliveryStatus::MailLoop,
                  "an alias expanding to the user that already has it is a loop too");
    std::string hops;
    for (int i = 0; i < 101; ++i)
        hops += "Received: from h" + std::to_string(i) + "\r\n";
    auto r2 = f.deliver({"bob@example.org"}, hops + "\r\nb\r\n");
    CHECK(r2[0].outcome.status == DeliveryStatus::MailLoop);
    CHECK(f.messages("bob@example.org").size() == 1);
}

TEST_CASE("delivery: disk failures are temporary and leave nothing behind") {
    using store::FailPoint;
    for (auto point :
         {FailPoint::FileFsync, FailPoint::Link, FailPoint::DirFsync, FailPoint::IndexAdd}) {
        CAPTURE(static_cast<int>(point));
        Fixture f;
        f.fail_point = point;
        auto r = f.deliver({"alice@example.org"}, "Subject: x\r\n\r\nbody\r\n");
        CHECK_MESSAGE(r[0].outcome.status == DeliveryStatus::TempFail,
                      "got " << status_name(r[0].outcome.status) << ", want temp_fail");
        check_nothing_delivered(f, "alice@example.org");
    }
}

TEST_CASE("delivery: unwritable Maildir is a temporary failure") {
    Fixture f;
    auto p = f.paths("alice@example.org");
    // Works as root too: tmp/ is replaced by a plain file.
    std::filesystem::remove_all(p.maildir / "tmp");
    { std::ofstream(p.maildir / "tmp") << "not a directory"; }
    auto r = f.deliver({"alice@example.org"}, "Subject: x\r\n\r\nbody\r\n");
    CHECK(r[0].outcome.status == DeliveryStatus::TempFail);
    CHECK(count_files(p.maildir / "new") == 0);
    CHECK(f.messages("alice@example.org").empty());
}

}  // namespace
}  // namespace postern::mda

namespace postern::mda {
namespace {

TEST_CASE("delivery: StoreBackend keeps the index open so the WAL is not checkpointed away") {
    Fixture f;
    StoreBackend backend(f.tmp.path(), f.settings);
    CHECK(backend.check_recipient("alice@example.org").status == DeliveryStatus::Delivered);
    CHECK(backend.check_recipient("nobody@example.org").status == DeliveryStatus::UnknownUser);
    auto r = backend.deliver(Envelope{"", {"alice@example.org"}, {}}, "Subject: x\r\n\r\nb\r\n");
    REQUIRE(r[0].outcome.status == DeliveryStatus::Delivered);
    auto wal = f.paths("alice@example.org").index_db;
    wal += "-wal";
    // Without the kept handle, closing MessageWriter's connection (the last
    // one) would checkpoint and delete the WAL: two more fsyncs.
    CHECK_MESSAGE(std::filesystem::exists(wal), "got no " << wal << ", want the WAL kept");
}

}  // namespace
}  // namespace postern::mda

namespace postern::mda {
namespace {

TEST_CASE("delivery: concurrent StoreBackend deliveries get distinct ascending UIDs") {
    // Pool threads share the backend's IndexPool: each delivery must get a
    // connection of its own, and every acknowledged message must be indexed.
    Fixture f;
    StoreBackend backend(f.tmp.path(), f.settings);
    constexpr int kThreads = 6;
    constexpr int kEach = 8;
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                const char* to = (t + i) % 2 == 0 ? "alice@example.org" : "bob@example.org";
                auto r = backend.deliver(Envelope{"", {to}, {}}, "Subject: x\r\n\r\nb\r\n");
                if (r[0].outcome.status != DeliveryStatus::Delivered) ++failures;
            }
        });
    }
    for (auto& th : threads)
        th.join();
    CHECK_MESSAGE(failures.load() == 0, "got ", failures.load(), " failed deliveries, want 0");
    std::size_t total = 0;
    for (const char* who : {"alice@example.org", "bob@example.org"}) {
        auto rows = f.messages(who);
        std::set<std::uint32_t> uids;
        for (const auto& m : rows)
            uids.insert(m.uid);
        CHECK_MESSAGE(uids.size() == rows.size(), "got duplicate UIDs for ", who);
        CHECK_MESSAGE(count_files(f.paths(who).maildir / "new") == rows.size(),
                      "got files in new/ != rows for ", who);
        CHECK(count_files(f.paths(who).maildir / "tmp") == 0);
        total += rows.size();
    }
    CHECK_MESSAGE(total == kThreads * kEach, "got ", total, " messages, want ", kThreads * kEach);
}

}  // namespace
}  // namespace postern::mda
