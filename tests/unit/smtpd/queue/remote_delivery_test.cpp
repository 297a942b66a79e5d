// deliver_batch against real peers on loopback: Postfix's smtp-sink (dumps
// what it receives), dnsmasq for the MX routing, and a scripted server
// (fake_smtp_server.h) for per-recipient rejects, STARTTLS and AUTH.
// Every MX resolves to an address in 127.0.0.0/8 and every peer listens on
// the same port P (DeliveryOptions::port): 127.0.0.1 smtp-sink,
// 127.0.0.2 nothing (refused), 127.0.0.3 smtp-sink answering 450 to the
// connection, 127.0.0.4-6 scripted servers.
#include <doctest/doctest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "common/log/log.h"
#include "common/tls/self_signed.h"
#include "common/tls/tls_context.h"
#include "smtpd/queue/remote_delivery.h"
#include "smtpd/queue/smtp_client.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/common/dns/peer_process.h"
#include "tests/unit/smtpd/queue/fake_smtp_server.h"

namespace postern::queue {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::vector<std::string> kRecords = {
    "--mx-host=sink.test,mx.sink.test,10",
    "--host-record=mx.sink.test,127.0.0.1",
    "--mx-host=failover.test,down.failover.test,10",
    "--mx-host=failover.test,up.failover.test,20",
    "--host-record=down.failover.test,127.0.0.2",
    "--host-record=up.failover.test,127.0.0.1",
    "--mx-host=grey.test,grey.grey.test,10",
    "--mx-host=grey.test,ok.grey.test,20",
    "--host-record=grey.grey.test,127.0.0.3",
    "--host-record=ok.grey.test,127.0.0.1",
    "--mx-host=dead.test,down.dead.test,10",
    "--host-record=down.dead.test,127.0.0.2",
    "--mx-host=nullmx.test,.,0",
    "--mx-host=fake.test,mx.fake.test,10",
    "--host-record=mx.fake.test,127.0.0.4",
    "--host-record=tls.test,127.0.0.5",  // implicit MX
    "--host-record=noutf8.test,127.0.0.6",
    "--host-record=relay.test,127.0.0.1",
    "--mx-host=cut.test,cut.cut.test,10",
    "--mx-host=cut.test,ok.cut.test,20",
    "--host-record=cut.cut.test,127.0.0.7",
    "--host-record=ok.cut.test,127.0.0.1",
    "--host-record=old.test,127.0.0.8",
    "--mx-host=q.test,q.q.test,10",
    "--mx-host=q.test,ok.q.test,20",
    "--host-record=q.q.test,127.0.0.9",
    "--host-record=ok.q.test,127.0.0.1",
    "--mx-host=badtls.test,bad.badtls.test,10",
    "--mx-host=badtls.test,ok.badtls.test,20",
    "--host-record=bad.badtls.test,127.0.0.10",
    "--host-record=ok.badtls.test,127.0.0.1",
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const fs::path& p, const std::string& content) {
    std::ofstream(p, std::ios::binary) << content;
}

struct World {
    test::TempDir dir;
    std::uint16_t port = test::free_port();
    test::Dnsmasq dns{dir.path(), kRecords};
    fs::path dump = dir.path() / "dump";
    bool dump_made = fs::create_directory(dump);
    test::PeerProcess sink{{"/usr/sbin/smtp-sink", "-u", "root", "-d", (dump / "%H%M%S.").string(),
                            "127.0.0.1:" + std::to_string(port), "20"},
                           dir.path() / "sink.log"};
    test::PeerProcess grey{{"/usr/sbin/smtp-sink", "-u", "root", "-r", "CONNECT",
                            "127.0.0.3:" + std::to_string(port), "20"},
                           dir.path() / "grey.log"};

    World() { ::signal(SIGPIPE, SIG_IGN); }

    bool ready() {
        return dns.ready() && test::wait_for_tcp("127.0.0.1", port) &&
               test::wait_for_tcp("127.0.0.3", port);
    }

    DeliveryOptions options() const {
        DeliveryOptions o;
        o.dns.nameserver = dns::ResolverConfig::Server{"127.0.0.1", dns.port()};
        o.dns.timeout = 2000ms;
        o.dns.attempts = 1;
        o.port = port;
        o.helo_name = "client.test";
        o.connect_timeout = 5s;
        o.greeting_timeout = 5s;
        o.command_timeout = 5s;
        o.data_block_timeout = 5s;
        o.data_done_timeout = 5s;
        return o;
    }

    OutboundMessage message(const std::string& id, const std::string& body,
                            std::vector<std::string> rcpts) const {
        OutboundMessage m;
        m.id = id;
        m.sender = "sender@origin.test";
        m.body_file = dir.path() / ("msg-" + id);
        write_file(m.body_file, body);
        m.size = body.size();
        for (auto& r : rcpts)
            m.recipients.push_back(OutboundRecipient{r, "", 0});
        return m;
    }

    // smtp-sink's dump files (headers it adds, then the message with LF endings).
    std::vector<std::string> dumps() const {
        std::vector<std::string> out;
        for (const auto& e : fs::directory_iterator(dump))
            out.push_back(slurp(e.path()));
        return out;
    }
};

std::string outcome_text(const RecipientOutcome& r) {
    return reply_text(r.reply) + " @" + r.remote_host;
}

// Every recipient of every message got a reply with this code and enhanced status.
void check_all(const std::vector<MessageOutcome>& outcomes, int code, const std::string& enhanced) {
    for (const auto& m : outcomes) {
        for (const auto& r : m.recipients) {
            CHECK_MESSAGE(r.reply.code == code, "got ", outcome_text(r), ", want ", code);
            CHECK_MESSAGE(r.reply.enhanced == enhanced, "got ", outcome_text(r), ", want ",
                          enhanced);
        }
    }
}

std::string to_lf(std::string s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
        out += s[i];
    }
    return out;
}

struct TlsPeer {
    std::string cert, key;
    std::unique_ptr<tls::TlsContext> ctx;
    TlsPeer(const fs::path& dir, const std::string& host) {
        cert = (dir / (host + ".crt")).string();
        key = (dir / (host + ".key")).string();
        REQUIRE(tls::write_self_signed({host, false, 2, tls::KeyType::EcP256}, cert, key).ok());
        auto c = tls::TlsContext::server(cert, key);
        REQUIRE(c.ok());
        ctx = std::move(*c);
    }
};

TEST_CASE("smtp-sink: two messages over one connection arrive intact, dot-stuffed on the wire") {
    World w;
    REQUIRE_MESSAGE(w.ready(), "peers did not start");
    std::string big = "Subject: big\r\n\r\n";
    for (int i = 0; big.size() < 300 * 1024; ++i) {  // several kBodyChunkBytes chunks
        big += (i % 7 == 0 ? "." : "") + std::string("line ") + std::to_string(i) + "\r\n";
    }
    const std::string small =
        "Subject: dots\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nnot the end\r\nlast";
    std::vector<OutboundMessage> batch = {w.message("m1", small, {"a@sink.test", "b@sink.test"}),
                                          w.message("m2", big, {"c@sink.test"})};
    batch[0].envid = "env 1";
    batch[0].recipients[0].notify = 1 | 2;  // SUCCESS,FAILURE
    batch[0].recipients[0].orcpt = "rfc822;a+x@sink.test";
    auto outcomes = deliver_batch(w.options(), "sink.test", batch);
    REQUIRE(outcomes.size() == 2);
    REQUIRE(outcomes[0].recipients.size() == 2);
    REQUIRE(outcomes[1].recipients.size() == 1);
    check_all(outcomes, 250, "2.0.0");
    CHECK(outcomes[0].recipients[0].remote_host == "mx.sink.test[127.0.0.1]");

    w.sink.stop();  // flushes and closes the dumps
    auto dumps = w.dumps();
    REQUIRE_MESSAGE(dumps.size() == 2, "got ", dumps.size(), " dumps, want 2");
    const std::string& d_small =
        dumps[0].find("Subject: dots") != std::string::npos ? dumps[0] : dumps[1];
    const std::string& d_big = &d_small == &dumps[0] ? dumps[1] : dumps[0];
    // The body unstuffed by the server is ours, with the final CRLF added.
    CHECK_MESSAGE(d_small.find(to_lf(small) + "\n") != std::string::npos, "got dump:\n", d_small);
    CHECK(d_big.find(to_lf(big)) != std::string::npos);
    CHECK_MESSAGE(d_small.find("X-Mail-Args: <sender@origin.test> RET=HDRS ENVID=env+201") !=
                      std::string::npos,
                  "got dump:\n", d_small);
    CHECK_MESSAGE(
        d_small.find(
            "X-Rcpt-Args: <a@sink.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+2Bx@sink.test") !=
            std::string::npos,
        "got dump:\n", d_small);
    CHECK(d_small.find("X-Rcpt-Args: <b@sink.test>\n") != std::string::npos);
}

TEST_CASE("MX order: refused first MX and 4xx greeting both move to the next MX") {
    World w;
    REQUIRE(w.ready());
    auto refused =
        deliver_batch(w.options(), "failover.test",
                      {w.message("f1", "Subject: x\r\n\r\nhi\r\n", {"a@failover.test"})});
    check_all(refused, 250, "2.0.0");
    CHECK(refused[0].recipients[0].remote_host == "up.failover.test[127.0.0.1]");
    auto grey = deliver_batch(w.options(), "grey.test",
                              {w.message("g1", "Subject: x\r\n\r\nhi\r\n", {"a@grey.test"})});
    check_all(grey, 250, "2.0.0");
    CHECK(grey[0].recipients[0].remote_host == "ok.grey.test[127.0.0.1]");
}

TEST_CASE(
    "smtp-sink: lost connection after DATA -> 4.4.2 for that message, the rest via the next MX") {
    World w;
    REQUIRE(w.ready());
    // -q DATA: disconnect without replying to DATA.
    test::PeerProcess cut({"/usr/sbin/smtp-sink", "-u", "root", "-q", "DATA",
                           "127.0.0.7:" + std::to_string(w.port), "20"},
                          w.dir.path() / "cut.log");
    REQUIRE(test::wait_for_tcp("127.0.0.7", w.port));
    auto outcomes = deliver_batch(w.options(), "cut.test",
                                  {w.message("c1", "Subject: 1\r\n\r\nx\r\n", {"a@cut.test"}),
                                   w.message("c2", "Subject: 2\r\n\r\ny\r\n", {"b@cut.test"})});
    REQUIRE(outcomes.size() == 2);
    check_all({outcomes[0]}, 451, "4.4.2");
    CHECK(outcomes[0].recipients[0].remote_host == "cut.cut.test[127.0.0.7]");
    // c1 is not retried at once (the server may have it, RFC 1047); c2 never
    // started, so the next MX takes it.
    check_all({outcomes[1]}, 250, "2.0.0");
    CHECK(outcomes[1].recipients[0].remote_host == "ok.cut.test[127.0.0.1]");
}

TEST_CASE("smtp-sink: 421 after RCPT -> 4xx for that message, the rest via the next MX") {
    World w;
    REQUIRE(w.ready());
    test::PeerProcess q({"/usr/sbin/smtp-sink", "-u", "root", "-Q", "RCPT",
                         "127.0.0.9:" + std::to_string(w.port), "20"},
                        w.dir.path() / "q.log");
    REQUIRE(test::wait_for_tcp("127.0.0.9", w.port));
    auto outcomes = deliver_batch(w.options(), "q.test",
                                  {w.message("q1", "Subject: 1\r\n\r\nx\r\n", {"a@q.test"}),
                                   w.message("q2", "Subject: 2\r\n\r\ny\r\n", {"b@q.test"})});
    REQUIRE(outcomes.size() == 2);
    const auto& first = outcomes[0].recipients[0];
    CHECK_MESSAGE(first.reply.transient(), "got ", outcome_text(first));
    CHECK(first.remote_host == "q.q.test[127.0.0.9]");
    check_all({outcomes[1]}, 250, "2.0.0");
    CHECK(outcomes[1].recipients[0].remote_host == "ok.q.test[127.0.0.1]");
}

TEST_CASE("opportunistic STARTTLS that fails moves to the next MX") {
    World w;
    REQUIRE(w.ready());
    TlsPeer peer(w.dir.path(), "bad.badtls.test");
    test::FakeServerScript script;
    script.tls = peer.ctx->native();
    script.break_tls = true;
    test::FakeSmtpServer fake("127.0.0.10", w.port, script);
    REQUIRE(fake.ok());
    auto outcomes = deliver_batch(w.options(), "badtls.test",
                                  {w.message("b1", "Subject: b\r\n\r\nx\r\n", {"a@badtls.test"})});
    fake.stop();
    check_all(outcomes, 250, "2.0.0");
    CHECK(outcomes[0].recipients[0].remote_host == "ok.badtls.test[127.0.0.1]");
    CHECK(fake.record().connections == 1);
    CHECK(fake.record().messages.empty());
}

TEST_CASE("smtp-sink without ESMTP: HELO fallback, no extension parameters") {
    World w;
    REQUIRE(w.ready());
    const fs::path dump = w.dir.path() / "old-dump";
    fs::create_directory(dump);
    test::PeerProcess old(
        {"/usr/sbin/smtp-sink", "-u", "root", "-e", "-d", (dump / "%H%M%S.").string(),
         "127.0.0.8:" + std::to_string(w.port), "20"},
        w.dir.path() / "old.log");
    REQUIRE(test::wait_for_tcp("127.0.0.8", w.port));
    auto m = w.message("o1", "Subject: old\r\n\r\nhi\r\n", {"a@old.test"});
    m.envid = "e1";
    m.recipients[0].notify = 2;
    check_all(deliver_batch(w.options(), "old.test", {m}), 250, "2.0.0");
    old.stop();
    std::vector<std::string> dumps;
    for (const auto& e : fs::directory_iterator(dump))
        dumps.push_back(slurp(e.path()));
    REQUIRE(dumps.size() == 1);
    CHECK_MESSAGE(dumps[0].find("X-Client-Proto: SMTP\n") != std::string::npos, "got ", dumps[0]);
    CHECK_MESSAGE(dumps[0].find("X-Mail-Args: <sender@origin.test>\n") != std::string::npos, "got ",
                  dumps[0]);
    CHECK(dumps[0].find("X-Rcpt-Args: <a@old.test>\n") != std::string::npos);
}

TEST_CASE("failures before any server: our own replies") {
    World w;
    REQUIRE(w.ready());
    auto msg = [&] {
        return std::vector{w.message("x", "Subject: x\r\n\r\nhi\r\n", {"a@x.test", "b@x.test"})};
    };
    check_all(deliver_batch(w.options(), "dead.test", msg()), 451, "4.4.1");
    auto dead = deliver_batch(w.options(), "dead.test", msg());
    CHECK(dead[0].recipients[0].remote_host == "");
    check_all(deliver_batch(w.options(), "nullmx.test", msg()), 550, "5.1.10");
    check_all(deliver_batch(w.options(), "nowhere.test", msg()), 550, "5.1.2");
    auto no_dns = w.options();
    no_dns.dns.nameserver->port = test::free_port();
    check_all(deliver_batch(no_dns, "sink.test", msg()), 451, "4.4.3");
    // A spool file that is gone: a local temporary error, nothing delivered.
    auto gone = msg();
    gone[0].body_file = w.dir.path() / "missing";
    check_all(deliver_batch(w.options(), "sink.test", gone), 451, "4.3.0");
}

TEST_CASE("scripted server: RCPT 5xx for one recipient, pipelining, RSET between messages") {
    World w;
    REQUIRE(w.ready());
    test::FakeServerScript script;
    script.reject_rcpt = {"<bad@fake.test>"};
    test::FakeSmtpServer fake("127.0.0.4", w.port, script);
    REQUIRE(fake.ok());
    auto outcomes = deliver_batch(
        w.options(), "fake.test",
        {w.message("p1", "Subject: 1\r\n\r\n.dot\r\n", {"good@fake.test", "bad@fake.test"}),
         w.message("p2", "Subject: 2\r\n\r\nbody\r\n", {"bad@fake.test"}),
         w.message("p3", "Subject: 3\r\n\r\nbody\r\n", {"other@fake.test"})});
    fake.stop();
    REQUIRE(outcomes.size() == 3);
    CHECK_MESSAGE(outcomes[0].recipients[0].reply.code == 250, "got ",
                  outcome_text(outcomes[0].recipients[0]));
    CHECK_MESSAGE(outcomes[0].recipients[1].reply.code == 550, "got ",
                  outcome_text(outcomes[0].recipients[1]));
    CHECK(outcomes[0].recipients[1].reply.enhanced == "5.1.1");
    CHECK(outcomes[1].recipients[0].reply.code == 550);
    CHECK(outcomes[2].recipients[0].reply.code == 250);
    const auto& rec = fake.record();
    CHECK_MESSAGE(rec.connections == 1, "got ", rec.connections, " connections");
    CHECK(rec.mail_pipelined);
    REQUIRE(rec.messages.size() == 2);  // p2 had no accepted recipient: no DATA
    CHECK(rec.messages[0] == "Subject: 1\r\n\r\n..dot\r\n");
    std::string transcript;
    for (const auto& c : rec.commands)
        transcript += c.substr(0, 4) + " ";
    CHECK_MESSAGE(transcript == "EHLO MAIL RCPT RCPT DATA RSET MAIL RCPT RSET MAIL RCPT DATA QUIT ",
                  "got ", transcript);
}

TEST_CASE("scripted server: SMTPUTF8 not offered -> 550 5.6.7, over SIZE -> 552 5.3.4, no MAIL") {
    World w;
    REQUIRE(w.ready());
    test::FakeServerScript script;
    script.smtputf8 = false;
    script.pipelining = false;
    test::FakeSmtpServer fake("127.0.0.6", w.port, script);
    REQUIRE(fake.ok());
    auto utf8 = w.message("u1", "Subject: x\r\n\r\nhi\r\n", {"\xc3\xa9@noutf8.test"});
    utf8.smtputf8 = true;
    auto plain = w.message("u2", "Subject: x\r\n\r\nhi\r\n", {"a@noutf8.test"});
    auto huge = w.message("u3", "Subject: x\r\n\r\nhi\r\n", {"b@noutf8.test"});
    huge.size = 2'000'000;  // the server announces SIZE 1000000
    auto outcomes = deliver_batch(w.options(), "noutf8.test", {utf8, plain, huge});
    fake.stop();
    check_all({outcomes[0]}, 550, "5.6.7");
    check_all({outcomes[1]}, 250, "2.0.0");
    check_all({outcomes[2]}, 552, "5.3.4");
    CHECK(fake.record().messages.size() == 1);
    CHECK_FALSE(fake.record().mail_pipelined);
}

TEST_CASE("opportunistic STARTTLS to an MX with an unverifiable certificate") {
    World w;
    REQUIRE(w.ready());
    TlsPeer peer(w.dir.path(), "tls.test");
    test::FakeServerScript script;
    script.tls = peer.ctx->native();
    test::FakeSmtpServer fake("127.0.0.5", w.port, script);
    REQUIRE(fake.ok());
    auto outcomes = deliver_batch(
        w.options(), "tls.test", {w.message("t1", "Subject: t\r\n\r\nsecret\r\n", {"a@tls.test"})});
    fake.stop();
    check_all(outcomes, 250, "2.0.0");
    CHECK(fake.record().tls_used);
    REQUIRE(fake.record().messages.size() == 1);
    std::string transcript;
    for (const auto& c : fake.record().commands)
        transcript += c.substr(0, 4) + " ";
    CHECK_MESSAGE(transcript == "EHLO STAR EHLO MAIL RCPT DATA QUIT ", "got ", transcript);
}

TEST_CASE("relayhost: verified TLS and AUTH required") {
    World w;
    REQUIRE(w.ready());
    TlsPeer peer(w.dir.path(), "relay.test");
    TlsPeer other(w.dir.path(), "other.test");
    const std::uint16_t relay_port = test::free_port();
    auto relay_options = [&](const std::string& ca, const std::string& password) {
        auto o = w.options();
        o.relayhost = Relayhost{"relay.test", relay_port, "relay-user", password, ca};
        return o;
    };
    auto msg = [&] {
        return std::vector{w.message("r1", "Subject: r\r\n\r\nvia relay\r\n", {"a@far.example"})};
    };
    {
        test::FakeServerScript script;
        script.tls = peer.ctx->native();
        script.auth = true;
        test::FakeSmtpServer fake("127.0.0.1", relay_port, script);
        REQUIRE(fake.ok());
        auto good = deliver_batch(relay_options(peer.cert, "relay-secret"), "far.example", msg());
        check_all(good, 250, "2.0.0");
        CHECK(good[0].recipients[0].remote_host == "relay.test[127.0.0.1]");
        auto bad_ca =
            deliver_batch(relay_options(other.cert, "relay-secret"), "far.example", msg());
        check_all(bad_ca, 451, "4.7.5");
        auto bad_password = deliver_batch(relay_options(peer.cert, "wrong"), "far.example", msg());
        check_all(bad_password, 451, "4.7.0");
        fake.stop();
        CHECK(fake.record().messages.size() == 1);
    }
    {
        test::FakeServerScript script;  // no STARTTLS offered
        script.auth = true;
        test::FakeSmtpServer fake("127.0.0.1", relay_port, script);
        REQUIRE(fake.ok());
        check_all(deliver_batch(relay_options(peer.cert, "relay-secret"), "far.example", msg()),
                  451, "4.7.10");
        fake.stop();
        CHECK(fake.record().messages.empty());
        for (const auto& c : fake.record().commands)
            CHECK_MESSAGE(c.rfind("AUTH", 0) != 0, "sent ", c);
    }
}

}  // namespace
}  // namespace postern::queue
