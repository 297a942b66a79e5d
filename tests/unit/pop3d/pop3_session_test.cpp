// Pop3Session over real loopback sockets, with a real store. Named after
// the behaviour a client relies on or the abuse they model (STYLE.md §17).
#include <chrono>
#include <thread>

#include "pop3d/pop3_wire.h"
#include "tests/unit/pop3d/pop3_test_harness.h"

namespace postern::pop3::testing {
namespace {

const std::string kMsg1 = "From: a@example.test\r\nSubject: one\r\n\r\nHello\r\n.dot line\r\n";
const std::string kMsg2 = "From: b@example.test\nSubject: two\n\nbare\nLF\n";
const std::string kMsg3 = "Subject: three\r\n\r\nno final newline";
// The same three as a client must see them (stuffed, CRLF).
const std::string kWire1 = "From: a@example.test\r\nSubject: one\r\n\r\nHello\r\n..dot line\r\n";
const std::string kWire2 = "From: b@example.test\r\nSubject: two\r\n\r\nbare\r\nLF\r\n";
const std::string kWire3 = "Subject: three\r\n\r\nno final newline\r\n";

void deliver_three(Fixture& f) {
    f.deliver(kMsg1);
    f.deliver(kMsg2);
    f.deliver(kMsg3);
}

// Logs in, retrying while the previous session of the test still holds the
// maildrop lock (its close is asynchronous).
bool login_when_free(Client& c) {
    if (!c.cmd(std::string("USER ") + kUser).starts_with("+OK")) return false;
    for (int i = 0; i < 100; ++i) {
        std::string r = c.cmd(std::string("PASS ") + kPassword);
        if (r.starts_with("+OK")) return true;
        if (!r.starts_with("-ERR [IN-USE]")) return false;
        std::this_thread::sleep_for(20ms);
        c.cmd(std::string("USER ") + kUser);
    }
    return false;
}

TEST_CASE("pop3: greeting and CAPA per state") {
    Fixture f;
    std::string greeting, before, after;
    f.run([&] {
        Client c(f.address());
        greeting = c.line();
        c.send("CAPA\r\n");
        c.line();
        before = c.multi();
        REQUIRE(c.login());
        c.send("CAPA\r\n");
        c.line();
        after = c.multi();
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(greeting.starts_with("+OK"), "got " << greeting);
    for (const char* cap : {"TOP\r\n", "UIDL\r\n", "USER\r\n", "SASL PLAIN\r\n", "RESP-CODES\r\n",
                            "AUTH-RESP-CODE\r\n", "PIPELINING\r\n", "IMPLEMENTATION Postern\r\n"}) {
        CHECK_MESSAGE(before.find(cap) != std::string::npos, "want " << cap << " in " << before);
    }
    CHECK_MESSAGE(before.find("STLS") == std::string::npos, "no TLS context, got " << before);
    CHECK_MESSAGE(after.find("USER") == std::string::npos, "got " << after);
    CHECK_MESSAGE(after.find("UIDL") != std::string::npos, "got " << after);
}

TEST_CASE("pop3: full session: STAT LIST UIDL RETR TOP DELE RSET QUIT") {
    Fixture f;
    deliver_three(f);
    std::vector<std::string> got;
    std::string list, uidl, r1, r2, r3, top;
    f.run([&] {
        Client c(f.address());
        c.line();
        REQUIRE(c.login());
        got.push_back(c.cmd("STAT"));
        got.push_back(c.cmd("LIST"));
        list = c.multi();
        got.push_back(c.cmd("LIST 2"));
        got.push_back(c.cmd("UIDL"));
        uidl = c.multi();
        got.push_back(c.cmd("RETR 1"));
        r1 = c.multi();
        got.push_back(c.cmd("RETR 2"));
        r2 = c.multi();
        got.push_back(c.cmd("RETR 3"));
        r3 = c.multi();
        got.push_back(c.cmd("TOP 1 0"));
        top = c.multi();
        got.push_back(c.cmd("DELE 2"));
        got.push_back(c.cmd("RETR 2"));
        got.push_back(c.cmd("STAT"));
        got.push_back(c.cmd("RSET"));
        got.push_back(c.cmd("DELE 1"));
        got.push_back(c.cmd("NOOP"));
        got.push_back(c.cmd("QUIT"));
        got.push_back(c.line());
    });
    auto s1 = std::to_string(kWire1.size() - 1);  // one stuffing dot
    auto s2 = std::to_string(kWire2.size());
    auto s3 = std::to_string(kWire3.size());
    auto total = std::to_string(kWire1.size() - 1 + kWire2.size() + kWire3.size());
    std::vector<std::string> want = {
        "+OK 3 " + total,
        "+OK 3 messages (" + total + " octets)",
        "+OK 2 " + s2,
        "+OK Unique-ID listing follows",
        "+OK " + s1 + " octets",
        "+OK " + s2 + " octets",
        "+OK " + s3 + " octets",
        "+OK Top of message follows",
        "+OK Message 2 deleted",
        "-ERR Message 2 already deleted",
        "+OK 2 " + std::to_string(kWire1.size() - 1 + kWire3.size()),
        "+OK 3 messages (" + total + " octets)",
        "+OK Message 1 deleted",
        "+OK",
        "+OK Bye, 1 messages deleted",
        "<eof>",
    };
    REQUIRE(got.size() == want.size());
    for (std::size_t i = 0; i < want.size(); ++i) {
        CHECK_MESSAGE(got[i] == want[i],
                      "reply " << i << ": got " << got[i] << ", want " << want[i]);
    }
    CHECK_MESSAGE(list == "1 " + s1 + "\r\n2 " + s2 + "\r\n3 " + s3 + "\r\n", "got " << list);
    CHECK_MESSAGE(r1 == kWire1, "got " << r1);
    CHECK_MESSAGE(r2 == kWire2, "got " << r2);
    CHECK_MESSAGE(r3 == kWire3, "got " << r3);
    CHECK_MESSAGE(top == "From: a@example.test\r\nSubject: one\r\n\r\n", "got " << top);
    auto inbox = f.inbox();
    REQUIRE(inbox.size() == 2);
    CHECK_MESSAGE(inbox[0].uid == 2, "got uid " << inbox[0].uid << ", want 2 (1 was expunged)");
    CHECK(uidl.find("1 ") == 0);
}

TEST_CASE("pop3: dropped connection deletes nothing") {
    Fixture f;
    deliver_three(f);
    std::string stat;
    f.run([&] {
        {
            Client c(f.address());
            c.line();
            REQUIRE(c.login());
            CHECK(c.cmd("DELE 1").starts_with("+OK"));
            CHECK(c.cmd("DELE 2").starts_with("+OK"));
        }  // vanishes without QUIT
        Client c(f.address());
        c.line();
        REQUIRE(login_when_free(c));
        stat = c.cmd("STAT");
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(stat.starts_with("+OK 3 "), "got " << stat);
    CHECK(f.inbox().size() == 3);
}

TEST_CASE("pop3: second session on one maildrop gets IN-USE") {
    Fixture f;
    deliver_three(f);
    std::string second;
    f.run([&] {
        Client a(f.address());
        a.line();
        REQUIRE(a.login());
        Client b(f.address());
        b.line();
        b.cmd(std::string("USER ") + kUser);
        second = b.cmd(std::string("PASS ") + kPassword);
        a.cmd("QUIT");
    });
    CHECK_MESSAGE(second.starts_with("-ERR [IN-USE]"), "got " << second);
}

TEST_CASE("pop3: UIDLs are stable across sessions and reindex") {
    Fixture f;
    deliver_three(f);
    auto uidls = [&] {
        std::string out;
        f.run([&] {
            Client c(f.address());
            c.line();
            REQUIRE(login_when_free(c));
            c.cmd("UIDL");
            out = c.multi();
            c.cmd("QUIT");
        });
        return out;
    };
    std::string first = uidls();
    std::string second = uidls();
    {
        auto st = store::Store::open(f.root, store::PasswordParams::minimum_for_test());
        REQUIRE(st.ok());
        REQUIRE(st->reindex_user(f.alice, nullptr).ok());
    }
    std::string third = uidls();
    CHECK_MESSAGE(first.find("3 ") != std::string::npos, "got " << first);
    CHECK_MESSAGE(second == first, "got " << second << ", want " << first);
    CHECK_MESSAGE(third == first, "after reindex: got " << third << ", want " << first);
}

TEST_CASE("pop3: commands in the wrong state get -ERR") {
    Fixture f;
    deliver_three(f);
    std::vector<std::string> got;
    f.run([&] {
        Client c(f.address());
        c.line();
        for (const char* cmd : {"STAT", "LIST", "RETR 1", "DELE 1", "NOOP", "RSET", "TOP 1 1",
                                "UIDL", "PASS x", "STLS"}) {
            got.push_back(c.cmd(cmd));
        }
        REQUIRE(c.login());
        for (const char* cmd : {"USER x", "PASS x", "AUTH PLAIN", "STLS"})
            got.push_back(c.cmd(cmd));
        c.cmd("QUIT");
    });
    for (const auto& g : got)
        CHECK_MESSAGE(g.starts_with("-ERR"), "got " << g << ", want -ERR");
}

TEST_CASE("pop3: many_bad_commands closes the session") {
    Options o;
    o.max_bad_commands = 3;
    Fixture f(o);
    std::vector<std::string> got;
    f.run([&] {
        Client c(f.address());
        c.line();
        for (int i = 0; i < 4; ++i)
            got.push_back(c.cmd("XYZZY"));
        got.push_back(c.line());
        got.push_back(c.line());
    });
    REQUIRE(got.size() == 6);
    CHECK_MESSAGE(got[0] == "-ERR Unknown command", "got " << got[0]);
    CHECK_MESSAGE(got[3] == "-ERR Unknown command", "got " << got[3]);
    CHECK_MESSAGE(got[4] == "-ERR Too many bad commands, closing connection", "got " << got[4]);
    CHECK_MESSAGE(got[5] == "<eof>", "got " << got[5]);
}

TEST_CASE("pop3: long_line is refused and the session goes on") {
    Fixture f;
    std::string too_long, after;
    f.run([&] {
        Client c(f.address());
        c.line();
        too_long = c.cmd("USER " + std::string(5000, 'a'));
        after = c.cmd("USER bob");
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(too_long == "-ERR Line too long", "got " << too_long);
    CHECK_MESSAGE(after == "+OK Send PASS", "got " << after);
}

TEST_CASE("pop3: message numbers out of range, malformed or deleted") {
    struct Row {
        const char* cmd;
        const char* want;  // the whole reply
    };
    const Row rows[] = {
        {"RETR 0", "-ERR No such message"},
        {"RETR 4", "-ERR No such message"},
        {"RETR 99999999999", "-ERR Invalid message number"},
        {"RETR -1", "-ERR Invalid message number"},
        {"RETR +1", "-ERR Invalid message number"},
        {"RETR abc", "-ERR Invalid message number"},
        {"RETR", "-ERR Invalid message number"},
        {"RETR 1 2", "-ERR Invalid message number"},
        {"LIST 4", "-ERR No such message"},
        {"UIDL 0", "-ERR No such message"},
        {"TOP 1", "-ERR Usage: TOP msg lines"},
        {"TOP 1 x", "-ERR Usage: TOP msg lines"},
        {"TOP 9 1", "-ERR No such message"},
        {"DELE 3", "+OK Message 3 deleted"},
        {"DELE 3", "-ERR Message 3 already deleted"},
        {"RETR 3", "-ERR Message 3 already deleted"},
        {"LIST 3", "-ERR Message 3 already deleted"},
        {"UIDL 3", "-ERR Message 3 already deleted"},
        {"TOP 3 0", "-ERR Message 3 already deleted"},
    };
    Fixture f;
    deliver_three(f);
    std::vector<std::string> got;
    f.run([&] {
        Client c(f.address());
        c.line();
        REQUIRE(c.login());
        for (const auto& row : rows)
            got.push_back(c.cmd(row.cmd));
        c.cmd("QUIT");
    });
    REQUIRE(got.size() == std::size(rows));
    for (std::size_t i = 0; i < got.size(); ++i) {
        CAPTURE(rows[i].cmd);
        CHECK_MESSAGE(got[i] == rows[i].want, "got " << got[i] << ", want " << rows[i].want);
    }
    auto left = f.inbox().size();
    CHECK_MESSAGE(left == 2, "after DELE 3 and QUIT: got " << left << " messages, want 2");
}

TEST_CASE("pop3: failed logins are throttled per user and IP") {
    Fixture f;  // max_failures 3
    std::vector<std::string> got;
    f.run([&] {
        Client c(f.address());
        c.line();
        // Other spellings of one user share its throttle.
        for (const char* user : {kUser, "ALICE@EXAMPLE.TEST", "Alice@example.test"}) {
            c.cmd(std::string("USER ") + user);
            got.push_back(c.cmd("PASS wrong"));
        }
        c.cmd(std::string("USER ") + kUser);
        got.push_back(c.cmd(std::string("PASS ") + kPassword));
        c.cmd("QUIT");
    });
    REQUIRE(got.size() == 4);
    for (int i = 0; i < 3; ++i) {
        CHECK_MESSAGE(got[i] == "-ERR [AUTH] Authentication failed", "got " << got[i]);
    }
    CHECK_MESSAGE(got[3].starts_with("-ERR [SYS/TEMP]"), "blocked: got " << got[3]);
    // Blocked as a user, not only as an IP: from another address too.
    CHECK_MESSAGE(f.tracker.blocked("192.0.2.1", kUser),
                  "three spellings of one user: got not blocked, want blocked");
    CHECK_MESSAGE(
        f.logs.find("auth-failed rip=127.0.0.1 user=alice@example.test") != std::string::npos,
        "want a fail2ban line in: " << f.logs);
    CHECK_MESSAGE(f.logs.find(kPassword) == std::string::npos, "password leaked into the log");
}

TEST_CASE("pop3: unknown user fails like a wrong password") {
    Fixture f;
    std::string got;
    f.run([&] {
        Client c(f.address());
        c.line();
        c.cmd("USER nobody@example.test");
        got = c.cmd("PASS whatever");
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(got == "-ERR [AUTH] Authentication failed", "got " << got);
}

TEST_CASE("pop3: AUTH PLAIN with initial response, continuation and cancel") {
    Fixture f;
    deliver_three(f);
    std::vector<std::string> got;
    // base64("\0alice@example.test\0correct horse battery")
    std::string plain = "AGFsaWNlQGV4YW1wbGUudGVzdABjb3JyZWN0IGhvcnNlIGJhdHRlcnk=";
    f.run([&] {
        {
            Client c(f.address());
            c.line();
            got.push_back(c.cmd("AUTH PLAIN"));
            got.push_back(c.cmd("*"));
            got.push_back(c.cmd("AUTH PLAIN"));
            got.push_back(c.cmd(plain));
            got.push_back(c.cmd("QUIT"));
        }
        Client c(f.address());
        c.line();
        for (int i = 0; i < 100; ++i) {
            std::string r = c.cmd("AUTH PLAIN " + plain);
            if (!r.starts_with("-ERR [IN-USE]")) {
                got.push_back(r);
                break;
            }
            std::this_thread::sleep_for(20ms);
        }
        got.push_back(c.cmd("AUTH"));
        c.cmd("QUIT");
    });
    REQUIRE(got.size() == 7);
    CHECK_MESSAGE(got[0] == "+ ", "got " << got[0]);
    CHECK_MESSAGE(got[1] == "-ERR Authentication cancelled", "got " << got[1]);
    CHECK_MESSAGE(got[3].starts_with("+OK Logged in, 3 messages"), "got " << got[3]);
    CHECK_MESSAGE(got[5].starts_with("+OK Logged in"), "got " << got[5]);
    CHECK_MESSAGE(got[6].starts_with("-ERR"), "AUTH after login: got " << got[6]);
}

TEST_CASE("pop3: plaintext login refused without TLS; STLS then login") {
    Options o;
    o.allow_plaintext_on_loopback = false;
    o.with_tls = true;
    Fixture f(o);
    deliver_three(f);
    std::string capa_plain, user_plain, stls, capa_tls, stat;
    bool handshake = false;
    f.run([&] {
        Client c(f.address());
        c.line();
        c.send("CAPA\r\n");
        c.line();
        capa_plain = c.multi();
        user_plain = c.cmd(std::string("USER ") + kUser);
        // Pipelined plaintext after STLS must be discarded, never executed.
        c.send("STLS\r\nUSER injected\r\n");
        stls = c.line();
        handshake = c.start_tls(f.tls->client->native());
        c.send("CAPA\r\n");
        c.line();
        capa_tls = c.multi();
        REQUIRE(c.login());
        stat = c.cmd("STAT");
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(capa_plain.find("STLS") != std::string::npos, "got " << capa_plain);
    CHECK_MESSAGE(capa_plain.find("USER") == std::string::npos, "got " << capa_plain);
    CHECK_MESSAGE(user_plain.starts_with("-ERR [AUTH]"), "got " << user_plain);
    CHECK_MESSAGE(stls == "+OK Begin TLS negotiation", "got " << stls);
    CHECK(handshake);
    CHECK_MESSAGE(capa_tls.find("STLS") == std::string::npos, "got " << capa_tls);
    CHECK_MESSAGE(capa_tls.find("USER") != std::string::npos, "got " << capa_tls);
    CHECK_MESSAGE(stat.starts_with("+OK 3 "), "got " << stat);
}

TEST_CASE("pop3: implicit TLS (995)") {
    Options o;
    o.allow_plaintext_on_loopback = false;
    o.implicit_tls = true;
    Fixture f(o);
    deliver_three(f);
    std::string greeting, retr, body;
    f.run([&] {
        Client c(f.address());
        REQUIRE(c.start_tls(f.tls->client->native()));
        greeting = c.line();
        REQUIRE(c.login());
        retr = c.cmd("RETR 2");
        body = c.multi();
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(greeting.starts_with("+OK"), "got " << greeting);
    CHECK_MESSAGE(body == kWire2, "got " << body);
}

TEST_CASE("pop3: slow_client is logged out by the idle timer without deleting") {
    Options o;
    o.idle_timeout = 300ms;
    Fixture f(o);
    deliver_three(f);
    std::string dele, timeout, eof;
    f.run([&] {
        Client c(f.address());
        c.line();
        REQUIRE(c.login());
        dele = c.cmd("DELE 1");
        timeout = c.line();
        eof = c.line();
    });
    CHECK_MESSAGE(timeout == "-ERR Disconnected for inactivity", "got " << timeout);
    CHECK_MESSAGE(eof == "<eof>", "got " << eof);
    CHECK_MESSAGE(f.inbox().size() == 3, "an idle timeout must not enter UPDATE");
}

TEST_CASE("pop3: pipelined commands are answered in order") {
    Fixture f;
    deliver_three(f);
    std::vector<std::string> got;
    std::string retr;
    f.run([&] {
        Client c(f.address());
        c.line();
        c.send(std::string("USER ") + kUser + "\r\nPASS " + kPassword +
               "\r\nSTAT\r\nRETR 2\r\nNOOP\r\nLIST 3\r\nQUIT\r\n");
        for (int i = 0; i < 4; ++i)
            got.push_back(c.line());
        retr = c.multi();
        for (int i = 0; i < 3; ++i)
            got.push_back(c.line());
    });
    REQUIRE(got.size() == 7);
    CHECK_MESSAGE(got[2].starts_with("+OK 3 "), "got " << got[2]);
    CHECK_MESSAGE(got[3].starts_with("+OK " + std::to_string(kWire2.size())), "got " << got[3]);
    CHECK_MESSAGE(retr == kWire2, "got " << retr);
    CHECK_MESSAGE(got[4] == "+OK", "got " << got[4]);
    CHECK_MESSAGE(got[5] == "+OK 3 " + std::to_string(kWire3.size()), "got " << got[5]);
    CHECK_MESSAGE(got[6] == "+OK Bye", "got " << got[6]);
}

TEST_CASE("pop3: client vanishes mid-RETR; the server carries on") {
    Fixture f;
    std::string big = "Subject: big\r\n\r\n";
    std::string line(76, 'y');
    line += "\r\n";
    while (big.size() < (8u << 20))
        big += line;
    f.deliver(big);
    std::size_t read = 0;
    std::string stat;
    f.run([&] {
        {
            Client c(f.address());
            c.line();
            REQUIRE(c.login());
            c.send("RETR 1\r\n");
            read = c.read_some(100000);
        }  // gone after 100 kB of 8 MB
        Client c(f.address());
        c.line();
        REQUIRE(login_when_free(c));
        stat = c.cmd("STAT");
        c.cmd("QUIT");
    });
    CHECK(read == 100000);
    CHECK_MESSAGE(stat == "+OK 1 " + std::to_string(big.size()), "got " << stat);
}

TEST_CASE("pop3: a big RETR arrives byte-exact") {
    Fixture f;
    std::string big = "Subject: big\n\n";
    for (int i = 0; big.size() < (3u << 20); ++i)
        big += (i % 7 == 0 ? ".dot " : "line ") + std::to_string(i) + "\n";
    f.deliver(big);
    std::string body, head;
    f.run([&] {
        Client c(f.address());
        c.line();
        REQUIRE(c.login());
        head = c.cmd("RETR 1");
        body = c.multi();
        c.cmd("QUIT");
    });
    WireEncoder enc;
    std::string want;
    enc.feed(big, want);
    enc.finish(want);
    CHECK_MESSAGE(head.starts_with("+OK "), "got " << head);
    CHECK_MESSAGE(body + ".\r\n" == want,
                  "got " << body.size() << " bytes, want " << want.size() - 3);
}

TEST_CASE("pop3: read-ahead replies follow the client's order and its DELEs") {
    Fixture f;
    deliver_three(f);
    f.deliver(kMsg1);
    std::vector<std::string> got;
    std::string r1, r3, r2, r4;
    f.run([&] {
        Client c(f.address());
        c.line();
        REQUIRE(c.login());
        got.push_back(c.cmd("RETR 1"));  // reads 2, 3 and 4 ahead
        r1 = c.multi();
        got.push_back(c.cmd("DELE 2"));
        got.push_back(c.cmd("RETR 2"));
        got.push_back(c.cmd("RETR 3"));
        r3 = c.multi();
        got.push_back(c.cmd("RETR 1"));  // behind the read-ahead: read again
        r2 = c.multi();
        got.push_back(c.cmd("RETR 4"));
        r4 = c.multi();
        c.cmd("QUIT");
    });
    REQUIRE(got.size() == 6);
    CHECK_MESSAGE(got[2] == "-ERR Message 2 already deleted", "got " << got[2]);
    CHECK_MESSAGE(got[3] == "+OK " + std::to_string(kWire3.size()) + " octets", "got " << got[3]);
    CHECK_MESSAGE(r1 == kWire1, "got " << r1);
    CHECK_MESSAGE(r3 == kWire3, "got " << r3);
    CHECK_MESSAGE(r2 == kWire1, "got " << r2);
    CHECK_MESSAGE(r4 == kWire1, "got " << r4);
}

TEST_CASE("pop3: message expunged elsewhere after login") {
    Fixture f;
    deliver_three(f);
    std::string got;
    f.run([&] {
        Client c(f.address());
        c.line();
        REQUIRE(c.login());
        {
            auto st = store::Store::open(f.root, store::PasswordParams::minimum_for_test());
            auto index = st->open_index(f.alice);
            REQUIRE(index->expunge(store::kInbox, {1}).ok());
        }
        got = c.cmd("RETR 1");
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(got == "-ERR Message 1 is no longer available", "got " << got);
}

}  // namespace
}  // namespace postern::pop3::testing
