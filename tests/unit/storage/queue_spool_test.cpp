#include "storage/queue_spool.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "tests/support/temp_dir.h"

namespace postern::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kMessage = "Received: from x\r\nSubject: hi\r\n\r\nbody\r\n";

std::vector<std::string> files_in(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// Hands out `text` in pieces of `piece` bytes, as smtp::Spool::read_all does.
BodySource body_of(const std::string& text, std::size_t piece = 3) {
    return [text, piece](const std::function<bool(std::string_view)>& sink) -> Status {
        for (std::size_t i = 0; i < text.size(); i += piece)
            if (!sink(std::string_view(text).substr(i, piece))) break;
        return {};
    };
}

Envelope sample_envelope() {
    Envelope e;
    e.id = "ignored";
    e.sender = "alice@example.test";
    e.envid = "QQ314159";
    e.ret_full = true;
    e.smtputf8 = true;
    e.eight_bit = true;
    e.submitted_by = "alice@example.test";
    e.arrival = 1764061884;
    e.next_attempt = 1764062184;
    e.attempts = 3;
    e.recipients = {
        {"bob@remote.test", "rfc822;bob@remote.test", kNotifySuccess | kNotifyDelay,
         RecipientState::Pending, "451 4.7.1 greylisted", "mx.remote.test", false, 1764062184, 2},
        {"carol@remote.test", "", kNotifyNever, RecipientState::Delivered, "250 2.0.0 ok",
         "mx2.remote.test", false, 0, 1},
        {"dave@remote.test", "", 0, RecipientState::Failed, "550 5.1.1 no such user",
         "mx.remote.test", true, 0, 3},
    };
    return e;
}

// Field-by-field equality, so a failure names the field.
void check_same(const Envelope& got, const Envelope& want) {
    CHECK_MESSAGE(to_json(got) == to_json(want), "got ", to_json(got).dump(), "\nwant ",
                  to_json(want).dump());
    CHECK(got.id == want.id);
    CHECK(got.sender == want.sender);
    CHECK(got.envid == want.envid);
    CHECK(got.ret_full == want.ret_full);
    CHECK(got.smtputf8 == want.smtputf8);
    CHECK(got.eight_bit == want.eight_bit);
    CHECK(got.submitted_by == want.submitted_by);
    CHECK(got.arrival == want.arrival);
    CHECK(got.next_attempt == want.next_attempt);
    CHECK(got.attempts == want.attempts);
    CHECK(got.size == want.size);
    REQUIRE(got.recipients.size() == want.recipients.size());
    for (std::size_t i = 0; i < got.recipients.size(); ++i) {
        CAPTURE(i);
        const auto& g = got.recipients[i];
        const auto& w = want.recipients[i];
        CHECK(g.address == w.address);
        CHECK(g.orcpt == w.orcpt);
        CHECK(g.notify == w.notify);
        CHECK(g.state == w.state);
        CHECK(g.last_reply == w.last_reply);
        CHECK(g.remote_host == w.remote_host);
        CHECK(g.bounced == w.bounced);
        CHECK(g.next_attempt == w.next_attempt);
        CHECK(g.attempts == w.attempts);
    }
}

QueueSpool open_spool(const fs::path& dir) {
    auto spool = QueueSpool::open(dir);
    REQUIRE_MESSAGE(spool.ok(), spool.error().message);
    return std::move(*spool);
}

std::string enqueue(QueueSpool& spool, const std::string& text = kMessage) {
    auto id = spool.enqueue(sample_envelope(), body_of(text));
    REQUIRE_MESSAGE(id.ok(), id.error().message);
    return *id;
}

// A flock held through another open file description, as another process
// (the queue runner, an enqueue in progress) would hold it.
class ForeignLock {
  public:
    explicit ForeignLock(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY)) {
        REQUIRE(fd_ >= 0);
        REQUIRE(::flock(fd_, LOCK_EX | LOCK_NB) == 0);
    }
    ~ForeignLock() { ::close(fd_); }
    ForeignLock(const ForeignLock&) = delete;
    ForeignLock& operator=(const ForeignLock&) = delete;

  private:
    int fd_;
};

const std::string kOtherId = "0000000000000001deadbeef";

}  // namespace

TEST_CASE("queue spool: enqueue, load, save, remove round trip") {
    test::TempDir tmp;
    auto spool = open_spool(tmp.path() / "queue");
    for (const auto* d : {"tmp", "msg", "env"}) {
        CAPTURE(d);
        auto perms = fs::status(tmp.path() / "queue" / d).permissions();
        CHECK_MESSAGE(perms == fs::perms::owner_all, "got mode ", static_cast<int>(perms),
                      ", want 0700");
    }
    const auto id = enqueue(spool);
    CHECK_MESSAGE(QueueSpool::valid_id(id), "got id ", id);
    CHECK(read_file(spool.message_path(id)) == kMessage);
    CHECK(files_in(spool.dir() / "tmp").empty());
    auto ids = spool.list();
    REQUIRE(ids.ok());
    CHECK(*ids == std::vector<std::string>{id});

    auto loaded = spool.load(id);
    REQUIRE_MESSAGE(loaded.ok(), loaded.error().message);
    auto want = sample_envelope();
    want.id = id;
    want.size = kMessage.size();
    check_same(*loaded, want);

    {
        auto lock = spool.lock(id, true);
        REQUIRE_MESSAGE(lock.ok(), lock.error().message);
        REQUIRE(lock->held());
        loaded->attempts = 4;
        loaded->next_attempt = 0;
        loaded->recipients[0].state = RecipientState::Delivered;
        loaded->recipients[0].last_reply = "250 2.0.0 queued as 42";
        auto saved = spool.save(*loaded);
        REQUIRE_MESSAGE(saved.ok(), saved.error().message);
        auto again = spool.load(id);
        REQUIRE_MESSAGE(again.ok(), again.error().message);
        check_same(*again, *loaded);
        CHECK(again->finished());
        auto removed = spool.remove(id);
        REQUIRE_MESSAGE(removed.ok(), removed.error().message);
    }
    CHECK(files_in(spool.dir() / "msg").empty());
    CHECK(files_in(spool.dir() / "env").empty());
    CHECK(files_in(spool.dir() / "tmp").empty());
    auto gone = spool.load(id);
    REQUIRE_FALSE(gone.ok());
    CHECK_MESSAGE(gone.error().message.find(id) != std::string::npos, "got ", gone.error().message);
    CHECK_FALSE(spool.remove(id).ok());
}

TEST_CASE("queue spool: ids are unique and listed oldest first") {
    test::TempDir tmp;
    auto spool = open_spool(tmp.path());
    std::vector<std::string> made;
    for (int i = 0; i < 20; ++i)
        made.push_back(enqueue(spool, "m" + std::to_string(i) + "\r\n"));
    auto ids = spool.list();
    REQUIRE(ids.ok());
    CHECK(*ids == made);
    auto sorted = made;
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    CHECK(sorted.size() == made.size());
    for (std::size_t i = 0; i < made.size(); ++i)
        CHECK(read_file(spool.message_path(made[i])) == "m" + std::to_string(i) + "\r\n");
}

TEST_CASE("queue spool: a failing body source leaves nothing behind") {
    test::TempDir tmp;
    auto spool = open_spool(tmp.path());
    BodySource broken = [](const std::function<bool(std::string_view)>& sink) -> Status {
        (void)sink("Subject: half\r\n");
        return fail("spool read error");
    };
    auto id = spool.enqueue(sample_envelope(), broken);
    REQUIRE_FALSE(id.ok());
    CHECK_MESSAGE(id.error().message == "spool read error", "got ", id.error().message);
    for (const auto* d : {"tmp", "msg", "env"}) {
        CAPTURE(d);
        CHECK(files_in(spool.dir() / d).empty());
    }
}

TEST_CASE("queue spool: recover() removes what a crash left, and nothing else") {
    test::TempDir tmp;
    std::string committed;
    {
        auto spool = open_spool(tmp.path());
        committed = enqueue(spool);
    }
    const auto dir = tmp.path();
    // A crash after link(2) into msg/, before the envelope's rename.
    write_file(dir / "msg" / kOtherId, kMessage);
    // Crashes while writing a message and an envelope.
    write_file(dir / "tmp" / "0000000000000002cafebabe.msg", "Subj");
    write_file(dir / "tmp" / (committed + ".env.0000000000000003cafebabe"), "{\"id\":");
    // An enqueue in progress in another process holds its file's lock.
    const std::string in_flight = "0000000000000004feedface";
    write_file(dir / "msg" / in_flight, kMessage);
    write_file(dir / "tmp" / "0000000000000005feedface.msg", "Subj");
    {
        ForeignLock busy_msg(dir / "msg" / in_flight);
        ForeignLock busy_tmp(dir / "tmp" / "0000000000000005feedface.msg");
        auto spool = open_spool(dir);
        CHECK_MESSAGE(files_in(dir / "tmp").size() == 3, "open() alone removes nothing");
        auto recovered = spool.recover();
        REQUIRE_MESSAGE(recovered.ok(), recovered.error().message);
        CHECK(files_in(dir / "msg") == std::vector<std::string>{in_flight, committed});
        CHECK(files_in(dir / "tmp") == std::vector<std::string>{"0000000000000005feedface.msg"});
        auto ids = spool.list();
        REQUIRE(ids.ok());
        CHECK(*ids == std::vector<std::string>{committed});
        auto loaded = spool.load(committed);
        CHECK_MESSAGE(loaded.ok(), loaded.error().message);
    }
    // Its writer gone (crashed), the next recover() removes it too.
    auto spool = open_spool(dir);
    REQUIRE(spool.recover().ok());
    CHECK(files_in(dir / "msg") == std::vector<std::string>{committed});
    CHECK(files_in(dir / "tmp").empty());
}

TEST_CASE("queue spool: locks exclude each other and die with the message") {
    test::TempDir tmp;
    auto spool = open_spool(tmp.path());
    const auto id = enqueue(spool);
    {
        auto first = spool.lock(id, false);
        REQUIRE_MESSAGE(first.ok(), first.error().message);
        CHECK(first->held());
        auto second = spool.lock(id, false);
        REQUIRE_MESSAGE(second.ok(), second.error().message);
        CHECK_MESSAGE(!second->held(), "got a second lock on a locked message, want none");
        QueueLock moved = std::move(*first);
        CHECK(moved.held());
        CHECK_FALSE(first->held());
        CHECK_FALSE(spool.lock(id, false)->held());
    }
    auto third = spool.lock(id, false);
    REQUIRE(third.ok());
    CHECK_MESSAGE(third->held(), "got no lock after release, want one");

    // A waiter that gets the lock only after the message was removed fails.
    Result<QueueLock> waited = fail("not run");
    std::thread waiter([&] { waited = spool.lock(id, true); });
    ::usleep(100 * 1000);
    REQUIRE(spool.remove(id).ok());
    *third = QueueLock();
    waiter.join();
    CHECK_MESSAGE(!waited.ok(), "got a lock on a removed message, want failure");
    auto after = spool.lock(id, false);
    CHECK_MESSAGE(!after.ok(), "got a lock on a removed message, want failure");
    CHECK_FALSE(spool.lock(kOtherId, true).ok());
    CHECK_FALSE(spool.lock("../../etc/passwd", true).ok());
}

TEST_CASE("queue spool: save() after remove() fails and creates nothing") {
    test::TempDir tmp;
    auto spool = open_spool(tmp.path());
    const auto id = enqueue(spool);
    auto envelope = spool.load(id);
    REQUIRE(envelope.ok());
    {
        auto lock = spool.lock(id, true);
        REQUIRE(lock.ok());
        REQUIRE(spool.remove(id).ok());
    }
    envelope->next_attempt = 0;
    auto saved = spool.save(*envelope);
    CHECK_MESSAGE(!saved.ok(), "got a save of a removed message, want failure");
    for (const auto* d : {"tmp", "msg", "env"}) {
        CAPTURE(d);
        CHECK(files_in(spool.dir() / d).empty());
    }
    envelope->id = "../x";
    CHECK_FALSE(spool.save(*envelope).ok());
    CHECK(files_in(spool.dir() / "env").empty());
}

TEST_CASE("queue spool: valid_id") {
    struct Row {
        std::string id;
        bool valid;
    };
    const Row rows[] = {
        {"0006447a9b1c2d3e01234567", true},
        {"ffffffffffffffffffffffff", true},
        {"", false},
        {"../x", false},
        {"0006447a9b1c2d3e0123456", false},    // too short
        {"0006447a9b1c2d3e012345678", false},  // too long
        {"0006447A9B1C2D3E01234567", false},   // upper case
        {"0006447a9b1c2d3e0123456g", false},
        {"0006447a9b1c2d3e/1234567", false},
        {std::string("0006447a9b1c2d3e0123456\0", 24), false},
    };
    for (const auto& row : rows) {
        CAPTURE(row.id);
        CHECK_MESSAGE(QueueSpool::valid_id(row.id) == row.valid, "got ", !row.valid, ", want ",
                      row.valid);
    }
}

TEST_CASE("queue envelope: JSON round trip") {
    auto e = sample_envelope();
    e.id = "0006447a9b1c2d3e01234567";
    e.size = 12345;
    const auto j = to_json(e);
    CHECK(j.at("id") == e.id);
    CHECK(j.at("recipients").at(0).at("state") == "pending");
    CHECK(j.at("recipients").at(1).at("state") == "delivered");
    CHECK(j.at("recipients").at(2).at("state") == "failed");
    CHECK(j.at("recipients").at(0).at("notify") == json({"success", "delay"}));
    CHECK(j.at("recipients").at(1).at("notify") == json({"never"}));
    auto back = envelope_from_json(j);
    REQUIRE_MESSAGE(back.ok(), back.error().message);
    check_same(*back, e);
    // Through text, as stored.
    auto reparsed = envelope_from_json(json::parse(j.dump()));
    REQUIRE(reparsed.ok());
    check_same(*reparsed, e);

    Envelope empty;
    empty.id = "0006447a9b1c2d3e01234567";
    auto minimal = envelope_from_json({{"id", empty.id},
                                       {"sender", ""},
                                       {"arrival", 0},
                                       {"size", 0},
                                       {"recipients", json::array()}});
    REQUIRE_MESSAGE(minimal.ok(), minimal.error().message);
    check_same(*minimal, empty);
}

TEST_CASE("queue envelope: each malformed field is named") {
    struct Row {
        const char* name;
        std::function<void(json&)> spoil;
        std::string field;  // the error must start with this
    };
    const Row rows[] = {
        {"not an object", [](json& j) { j = json::array(); }, "envelope:"},
        {"no id", [](json& j) { j.erase("id"); }, "id: missing"},
        {"id number", [](json& j) { j["id"] = 7; }, "id:"},
        {"no sender", [](json& j) { j.erase("sender"); }, "sender: missing"},
        {"sender null", [](json& j) { j["sender"] = nullptr; }, "sender:"},
        {"envid array", [](json& j) { j["envid"] = json::array(); }, "envid:"},
        {"ret_full string", [](json& j) { j["ret_full"] = "yes"; }, "ret_full:"},
        {"smtputf8 number", [](json& j) { j["smtputf8"] = 1; }, "smtputf8:"},
        {"eight_bit null", [](json& j) { j["eight_bit"] = nullptr; }, "eight_bit:"},
        {"submitted_by bool", [](json& j) { j["submitted_by"] = false; }, "submitted_by:"},
        {"no arrival", [](json& j) { j.erase("arrival"); }, "arrival: missing"},
        {"arrival string", [](json& j) { j["arrival"] = "2026-11-25"; }, "arrival:"},
        {"arrival fraction", [](json& j) { j["arrival"] = 1.5; }, "arrival:"},
        {"next_attempt string", [](json& j) { j["next_attempt"] = "now"; }, "next_attempt:"},
        {"attempts negative", [](json& j) { j["attempts"] = -1; }, "attempts:"},
        {"attempts too big", [](json& j) { j["attempts"] = 1ull << 33; }, "attempts:"},
        {"no size", [](json& j) { j.erase("size"); }, "size: missing"},
        {"size negative", [](json& j) { j["size"] = -5; }, "size:"},
        {"no recipients", [](json& j) { j.erase("recipients"); }, "recipients: missing"},
        {"recipients object", [](json& j) { j["recipients"] = json::object(); }, "recipients:"},
        {"recipient string", [](json& j) { j["recipients"][1] = "bob"; }, "recipients[1]:"},
        {"no address", [](json& j) { j["recipients"][2].erase("address"); },
         "recipients[2].address: missing"},
        {"orcpt number", [](json& j) { j["recipients"][0]["orcpt"] = 1; }, "recipients[0].orcpt:"},
        {"no state", [](json& j) { j["recipients"][0].erase("state"); }, "recipients[0].state:"},
        {"state unknown", [](json& j) { j["recipients"][1]["state"] = "sent"; },
         "recipients[1].state:"},
        {"state number", [](json& j) { j["recipients"][1]["state"] = 0; }, "recipients[1].state:"},
        {"notify number", [](json& j) { j["recipients"][0]["notify"] = 2; },
         "recipients[0].notify:"},
        {"notify unknown", [](json& j) { j["recipients"][0]["notify"] = {"sometimes"}; },
         "recipients[0].notify:"},
        {"notify never and success",
         [](json& j) {
             j["recipients"][0]["notify"] = {"never", "success"};
         },
         "recipients[0].notify:"},
        {"last_reply null", [](json& j) { j["recipients"][2]["last_reply"] = nullptr; },
         "recipients[2].last_reply:"},
        {"remote_host number", [](json& j) { j["recipients"][2]["remote_host"] = 25; },
         "recipients[2].remote_host:"},
        {"recipient next_attempt string",
         [](json& j) { j["recipients"][0]["next_attempt"] = "soon"; },
         "recipients[0].next_attempt:"},
        {"recipient attempts negative", [](json& j) { j["recipients"][1]["attempts"] = -2; },
         "recipients[1].attempts:"},
        {"bounced string", [](json& j) { j["recipients"][2]["bounced"] = "true"; },
         "recipients[2].bounced:"},
    };
    auto e = sample_envelope();
    e.id = "0006447a9b1c2d3e01234567";
    for (const auto& row : rows) {
        const std::string name = row.name;
        CAPTURE(name);
        auto j = to_json(e);
        row.spoil(j);
        auto got = envelope_from_json(j);
        REQUIRE_MESSAGE(!got.ok(), "got success, want an error naming ", row.field);
        CHECK_MESSAGE(got.error().message.rfind(row.field, 0) == 0, "got \"", got.error().message,
                      "\", want it to start with \"", row.field, "\"");
    }
}

TEST_CASE("queue spool: load() names the file of a corrupt envelope") {
    test::TempDir tmp;
    auto spool = open_spool(tmp.path());
    const auto id = enqueue(spool);
    const auto env = spool.envelope_dir() / id;
    const std::pair<std::string, std::string> cases[] = {
        {"{not json", "not valid JSON"},
        {R"({"id":"0006447a9b1c2d3e01234567","sender":"","arrival":0,"size":0,"recipients":[]})",
         "id: want"},
        {R"({"id":")" + id + R"(","sender":"","arrival":0,"size":0,"recipients":[{}]})",
         "recipients[0].address: missing"},
    };
    for (const auto& [text, want] : cases) {
        CAPTURE(text);
        write_file(env, text);
        auto got = spool.load(id);
        REQUIRE_FALSE(got.ok());
        CHECK_MESSAGE(got.error().message.find(want) != std::string::npos, "got \"",
                      got.error().message, "\", want \"", want, "\"");
        CHECK(got.error().message.find(env.string()) != std::string::npos);
    }
    CHECK_FALSE(spool.load("../env/x").ok());
}

TEST_CASE("queue envelope: finished()") {
    auto e = sample_envelope();
    CHECK_FALSE(e.finished());  // bob is pending
    e.recipients[0].state = RecipientState::Delivered;
    CHECK(e.finished());
    e.recipients[2].bounced = false;  // failed, bounce not yet enqueued
    CHECK_FALSE(e.finished());
}

}  // namespace postern::store
