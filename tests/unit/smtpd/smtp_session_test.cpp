// The MX profile over real sockets, named after what each case models
// (STYLE.md §17). mda is the LMTP stub in smtp_test_harness.h.
#include "storage/queue_spool.h"
#include "tests/unit/smtpd/smtp_test_harness.h"

namespace postern::smtp::testing {
namespace {

TEST_CASE("mx: greeting and EHLO list the extensions") {
    Harness h;
    std::vector<std::string> ehlo;
    std::string greeting;
    h.run([&] {
        Client c(h.address());
        greeting = c.reply();
        c.send("EHLO client.test\r\n");
        ehlo = c.reply_lines();
        c.cmd("QUIT");
    });
    CHECK_MESSAGE(greeting == "220 mx.example.test ESMTP Postern", "got " << greeting);
    for (const char* ext : {"250-PIPELINING", "250-SIZE 52428800", "250-ENHANCEDSTATUSCODES",
                            "250-8BITMIME", "250-SMTPUTF8", "250-CHUNKING", "250-DSN"}) {
        bool found = std::find(ehlo.begin(), ehlo.end(), ext) != ehlo.end();
        CHECK_MESSAGE(found, "EHLO reply lacks " << ext);
    }
    for (const auto& l : ehlo) {
        CHECK_MESSAGE(l.find("AUTH") == std::string::npos, "MX must not offer AUTH, got " << l);
        CHECK_MESSAGE(l.find("STARTTLS") == std::string::npos, "no TLS context, got " << l);
    }
}

TEST_CASE("mx: a local message reaches mda with a Received field") {
    Harness h;
    std::string after_data;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "sender@remote.example", "alice@example.test"));
        CHECK(code_is(c.cmd("RCPT TO:<sales@example.test>"), "250"));
        CHECK(code_is(c.cmd("RCPT TO:<alice+news@example.test>"), "250"));
        CHECK(code_is(c.cmd("RCPT TO:<anyone@other.test>"), "250"));  // catch-all
        CHECK(code_is(c.cmd("DATA"), "354"));
        after_data = c.cmd("Subject: hi\r\n\r\n..leading dot\r\nbody\r\n.");
        CHECK(code_is(c.cmd("QUIT"), "221"));
    });
    CHECK_MESSAGE(code_is(after_data, "250 2.0.0"), "got " << after_data);
    auto msgs = h.lmtp->messages();
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0].sender == "sender@remote.example");
    std::vector<std::string> want = {"alice@example.test", "sales@example.test",
                                     "alice+news@example.test", "anyone@other.test"};
    CHECK(msgs[0].recipients == want);
    CHECK_MESSAGE(msgs[0].data.rfind("Received: from client.test ([127.0.0.1])", 0) == 0,
                  "got " << msgs[0].data.substr(0, 80));
    CHECK(msgs[0].data.find("with ESMTP id") != std::string::npos);
    // Dot-stuffing survives the trip: mda gets it stuffed on the wire again.
    CHECK(msgs[0].data.find("\r\n..leading dot\r\nbody\r\n") != std::string::npos);
    CHECK_MESSAGE(msgs[0].data.find("Message-ID:") == std::string::npos,
                  "MX must not add a Message-ID");
}

TEST_CASE("mx: recipients outside our domains and unknown users are refused at RCPT") {
    struct Row {
        const char* rcpt;
        const char* want;
    };
    const Row rows[] = {
        {"<nobody@example.test>", "550 5.1.1"},
        {"<victim@remote.example>", "554 5.7.1"},
        {"<victim%remote.example@example.test>", "554 5.7.1"},      // percent hack
        {"<remote.example!victim@example.test>", "554 5.7.1"},      // bang path
        {"<\"victim@remote.example\"@example.test>", "554 5.7.1"},  // quoted @
        {"<victim@[192.0.2.1]>", "554 5.7.1"},                      // address literal
        {"<victim@[127.0.0.1]>", "554 5.7.1"},                      // even our own IP
        {"<@example.test:victim@remote.example>", "554 5.7.1"},     // source route, remote end
        {"<@remote.example:alice@example.test>", "250 2.1.5"},      // route ignored, local end
        {"<\"alice\"@example.test>", "250 2.1.5"},                  // harmless quoting
    };
    for (const auto& row : rows) {
        std::string rcpt = row.rcpt;
        CAPTURE(rcpt);
        Harness h;
        std::string got;
        h.run([&] {
            Client c(h.address());
            c.reply();
            c.cmd("EHLO client.test");
            c.cmd("MAIL FROM:<x@remote.example>");
            got = c.cmd(std::string("RCPT TO:") + row.rcpt);
        });
        CHECK_MESSAGE(code_is(got, row.want), "got " << got << ", want " << row.want);
    }
}

TEST_CASE("mx: postmaster exists for the stub when configured") {
    // <Postmaster> resolves to postmaster@<first domain>; with no such user
    // and no catch-all on example.test it would be 550, so add one here.
    Harness h;
    auto dir = store::Directory::open(h.context.directory_db);
    REQUIRE(dir.ok());
    REQUIRE(dir->add_alias("postmaster@example.test", "alice@example.test").ok());
    std::string got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "x@remote.example", "alice@example.test"));
        got = c.cmd("RCPT TO:<Postmaster>");
    });
    CHECK_MESSAGE(code_is(got, "250"), "got " << got);
}

TEST_CASE("mx: commands out of order get 503 5.5.1") {
    Harness h;
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        got.push_back(c.cmd("MAIL FROM:<a@remote.example>"));  // before EHLO
        c.cmd("EHLO client.test");
        got.push_back(c.cmd("RCPT TO:<alice@example.test>"));  // before MAIL
        got.push_back(c.cmd("DATA"));                          // before MAIL
        c.cmd("MAIL FROM:<a@remote.example>");
        got.push_back(c.cmd("MAIL FROM:<a@remote.example>"));  // nested
        got.push_back(c.cmd("DATA"));                          // no recipient
        got.push_back(c.cmd("RSET"));
    });
    std::vector<std::string> want = {"503 5.5.1", "503 5.5.1", "503 5.5.1",
                                     "503 5.5.1", "554 5.5.1", "250 2.0.0"};
    check_codes(got, want);
}

TEST_CASE("mx: unknown commands, long_line and VRFY") {
    net::ConnectionLimits conn;
    conn.max_line_bytes = 512;
    Harness h(opts_conn(conn));
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        got.push_back(c.cmd("FROB nicate"));
        got.push_back(c.cmd("EHLO " + std::string(2000, 'a')));
        got.push_back(c.cmd("NOOP"));  // the connection is kept
        got.push_back(c.cmd("VRFY alice"));
        got.push_back(c.cmd("VRFY nobody"));
        got.push_back(c.cmd("EXPN staff"));
        got.push_back(c.cmd("HELP"));
    });
    std::vector<std::string> want = {"500 5.5.1", "500 5.5.2", "250 2.0.0", "252 2.5.0",
                                     "252 2.5.0", "502 5.5.1", "214 2.0.0"};
    check_codes(got, want);
}

TEST_CASE("mx: many_bad_commands end in 421 and a close") {
    net::ConnectionLimits conn;
    conn.max_bad_commands = 3;
    Harness h(opts_conn(conn));
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        for (int i = 0; i < 4; ++i)
            got.push_back(c.cmd("BOGUS"));
        got.push_back(c.line());
        got.push_back(c.line());
    });
    REQUIRE(got.size() == 6);
    CHECK(code_is(got[3], "500"));
    CHECK_MESSAGE(code_is(got[4], "421 4.7.0"), "got " << got[4]);
    CHECK_MESSAGE(got[5] == "<eof>", "got " << got[5] << ", want <eof>");
}

TEST_CASE("mx: slow_client gets 421 4.4.2 on idle timeout") {
    net::ConnectionLimits conn;
    conn.idle_timeout = 300ms;
    Harness h(opts_conn(conn));
    std::string got, after;
    h.run([&] {
        Client c(h.address());
        c.reply();
        got = c.line();
        after = c.line();
    });
    CHECK_MESSAGE(code_is(got, "421 4.4.2"), "got " << got);
    CHECK(after == "<eof>");
}

TEST_CASE("mx: too many recipients get 452 4.5.3") {
    SmtpLimits limits;
    limits.max_recipients = 2;
    Harness h(opts_limits(limits));
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
        got.push_back(c.cmd("RCPT TO:<bob@example.test>"));
        got.push_back(c.cmd("RCPT TO:<sales@example.test>"));
    });
    CHECK(code_is(got[0], "250"));
    CHECK_MESSAGE(code_is(got[1], "452 4.5.3"), "got " << got[1]);
}

TEST_CASE("mx: big_data is refused with 552 5.3.4 at MAIL and at end of data") {
    SmtpLimits limits;
    limits.max_message_bytes = 1024;
    Harness h(opts_limits(limits));
    std::string at_mail, at_end, next;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.cmd("EHLO client.test");
        at_mail = c.cmd("MAIL FROM:<a@remote.example> SIZE=2048");
        c.cmd("MAIL FROM:<a@remote.example> SIZE=100");
        c.cmd("RCPT TO:<alice@example.test>");
        c.cmd("DATA");
        std::string body;
        for (int i = 0; i < 100; ++i)
            body += std::string(60, 'x') + "\r\n";
        at_end = c.cmd(body + ".");
        next = c.cmd("NOOP");
    });
    CHECK_MESSAGE(code_is(at_mail, "552 5.3.4"), "got " << at_mail);
    CHECK_MESSAGE(code_is(at_end, "552 5.3.4"), "got " << at_end);
    CHECK(code_is(next, "250"));
    CHECK(h.lmtp->messages().empty());
}

// The published SMTP smuggling end-of-data variants (SEC Consult, 2023):
// none may end the message; the smuggled second message must never be
// executed, and the carrier message is refused for its bare newline.
TEST_CASE("mx: smuggling sequences never end DATA") {
    const char* variants[] = {"\n.\n",   "\n.\r\n", "\r\n.\n", "\r.\r",
                              "\r\n.\r", "\r.\r\n", "\n.\r",   "\r\n.\r\r\n"};
    for (std::size_t i = 0; i < std::size(variants); ++i) {
        std::string end = variants[i];
        CAPTURE(i);
        Harness h;
        std::vector<std::string> got;
        h.run([&] {
            Client c(h.address());
            REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
            REQUIRE(code_is(c.cmd("DATA"), "354"));
            c.send("Subject: carrier\r\n\r\nhello" + end +
                   "MAIL FROM:<admin@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"
                   "Subject: smuggled\r\n\r\nevil\r\n.\r\n");
            got.push_back(c.reply());
            got.push_back(c.cmd("NOOP"));
        });
        REQUIRE(got.size() == 2);
        CHECK_MESSAGE(code_is(got[0], "550 5.6.0"), "variant " << i << ": got " << got[0]);
        CHECK_MESSAGE(code_is(got[1], "250"), "got " << got[1]);
        CHECK_MESSAGE(h.lmtp->messages().empty(), "variant " << i << " delivered something");
    }
}

TEST_CASE("mx: pipelined transaction is answered in order") {
    Harness h;
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.cmd("EHLO client.test");
        c.send(
            "MAIL FROM:<a@remote.example>\r\nRCPT TO:<nobody@example.test>\r\n"
            "RCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
        for (int i = 0; i < 5; ++i)
            got.push_back(c.reply());
        got.push_back(c.cmd("Subject: p\r\n\r\nx\r\n."));
    });
    std::vector<std::string> want = {"250 2.1.0", "550 5.1.1", "250 2.1.5",
                                     "250 2.1.5", "354",       "250 2.0.0"};
    check_codes(got, want);
    REQUIRE(h.lmtp->messages().size() == 1);
    CHECK(h.lmtp->messages()[0].recipients.size() == 2);
}

TEST_CASE("mx: BDAT chunks are delivered; a refused BDAT still consumes its chunk") {
    Harness h;
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.cmd("EHLO client.test");
        // No transaction: the 10 bytes must be eaten, not run as commands.
        c.send("BDAT 12\r\nQUIT\r\nQUIT\r\n");
        got.push_back(c.reply());
        got.push_back(c.cmd("MAIL FROM:<a@remote.example> BODY=8BITMIME"));
        got.push_back(c.cmd("RCPT TO:<alice@example.test>"));
        c.send("BDAT 20\r\nSubject: b\r\n\r\nbody\r\nBDAT 0 LAST\r\n");
        got.push_back(c.reply());
        got.push_back(c.reply());
        got.push_back(c.cmd("DATA"));
    });
    std::vector<std::string> want = {"503 5.5.1", "250 2.1.0", "250 2.1.5",
                                     "250 2.0.0", "250 2.0.0", "503 5.5.1"};
    check_codes(got, want);
    auto msgs = h.lmtp->messages();
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0].data.find("Subject: b\r\n\r\nbody\r\n") != std::string::npos);
}

TEST_CASE("mx: DSN parameters are accepted") {
    Harness h;
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.cmd("EHLO client.test");
        got.push_back(c.cmd("MAIL FROM:<a@remote.example> RET=HDRS ENVID=abc123"));
        got.push_back(c.cmd(
            "RCPT TO:<alice@example.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;alice@example.test"));
    });
    CHECK_MESSAGE(code_is(got[0], "250"), "got " << got[0]);
    CHECK_MESSAGE(code_is(got[1], "250"), "got " << got[1]);
}

// A partial delivery is accepted: the refused recipients wait in the queue.
std::vector<postern::store::QueuedRecipient> queued_recipients(Harness& h) {
    auto spool = postern::store::QueueSpool::open(h.dir.path() / "queue");
    REQUIRE(spool.ok());
    auto ids = spool->list();
    REQUIRE(ids.ok());
    std::vector<postern::store::QueuedRecipient> all;
    for (const auto& id : *ids) {
        auto env = spool->load(id);
        REQUIRE(env.ok());
        all.insert(all.end(), env->recipients.begin(), env->recipients.end());
    }
    return all;
}

TEST_CASE("mx: per-recipient LMTP outcomes decide the reply after DATA") {
    struct Row {
        const char* alice;
        const char* bob;
        const char* want;
        std::size_t queued;  // recipients handed to the queue
    };
    const Row rows[] = {
        {"250 2.0.0 Ok", "250 2.0.0 Ok", "250 2.0.0", 0},
        {"250 2.0.0 Ok", "452 4.2.2 Mailbox full", "250 2.0.0", 1},
        {"552 5.2.2 Over quota", "452 4.2.2 Mailbox full", "552 5.2.2", 0},
        {"451 4.3.0 Try later", "451 4.3.0 Try later", "451 4.3.0", 0},
    };
    for (const auto& row : rows) {
        CAPTURE(row.want);
        Harness h;
        h.lmtp->set_data_reply("alice@example.test", row.alice);
        h.lmtp->set_data_reply("bob@example.test", row.bob);
        std::string got;
        h.run([&] {
            Client c(h.address());
            REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
            c.cmd("RCPT TO:<bob@example.test>");
            c.cmd("DATA");
            got = c.cmd("Subject: x\r\n\r\nx\r\n.");
        });
        CHECK_MESSAGE(code_is(got, row.want), "got " << got << ", want " << row.want);
        auto queued = queued_recipients(h);
        CHECK_MESSAGE(queued.size() == row.queued, "got " << queued.size() << " queued");
        if (!queued.empty()) {
            CHECK(queued[0].address == "bob@example.test");
            CHECK(queued[0].state == postern::store::RecipientState::Pending);
            CHECK(queued[0].last_reply == "452 4.2.2 Mailbox full");
        }
    }
}

TEST_CASE("mx: a recipient mda refuses at its RCPT is bounced from the queue") {
    Harness h;
    h.lmtp->set_rcpt_reply("bob@example.test", "550 5.1.1 Gone since the RCPT check");
    std::string got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
        c.cmd("RCPT TO:<bob@example.test>");
        c.cmd("DATA");
        got = c.cmd("Subject: x\r\n\r\nx\r\n.");
    });
    CHECK_MESSAGE(code_is(got, "250 2.0.0"), "got " << got);
    auto msgs = h.lmtp->messages();
    REQUIRE(msgs.size() == 1);  // alice's copy went through
    CHECK(msgs[0].recipients == std::vector<std::string>{"alice@example.test"});
    auto queued = queued_recipients(h);
    REQUIRE(queued.size() == 1);
    CHECK(queued[0].address == "bob@example.test");
    CHECK(queued[0].state == postern::store::RecipientState::Failed);
    CHECK_FALSE(queued[0].bounced);  // the runner owes the bounce
}

TEST_CASE("mx: mda down gives 451 4.3.0, never 250") {
    Harness h;
    h.lmtp.reset();  // no LMTP socket
    std::string got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
        c.cmd("DATA");
        got = c.cmd("Subject: x\r\n\r\nx\r\n.");
    });
    CHECK_MESSAGE(code_is(got, "451 4.3.0"), "got " << got);
}

TEST_CASE("mx: a looping message is refused with 554 5.4.6") {
    SmtpLimits limits;
    limits.max_received_headers = 3;
    Harness h(opts_limits(limits));
    std::string got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
        c.cmd("DATA");
        std::string hdrs;
        for (int i = 0; i < 4; ++i)
            hdrs += "Received: from x by y; Mon, 1 Jan 2024 00:00:00 +0000\r\n";
        got = c.cmd(hdrs + "\r\nx\r\n.");
    });
    CHECK_MESSAGE(code_is(got, "554 5.4.6"), "got " << got);
}

TEST_CASE("mx: connections over the per-IP limit get 421") {
    net::ConnectionLimits conn;
    conn.max_connections_per_ip = 2;
    Harness h(opts_conn(conn));
    std::string third;
    h.run([&] {
        Client a(h.address());
        Client b(h.address());
        a.reply();
        b.reply();
        Client c(h.address());
        third = c.line();
    });
    CHECK_MESSAGE(code_is(third, "421 4.7.0"), "got " << third);
}

TEST_CASE("mx: a large message spills to the spool file and arrives whole") {
    SmtpLimits limits;
    limits.spool_memory_bytes = 4096;
    Harness h(opts_limits(limits));
    std::string body;
    for (int i = 0; i < 20000; ++i)
        body += "line " + std::to_string(i) + "\r\n";
    std::string got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
        c.cmd("DATA");
        got = c.cmd("Subject: big\r\n\r\n" + body + ".");
    });
    CHECK_MESSAGE(code_is(got, "250"), "got " << got);
    auto msgs = h.lmtp->messages();
    REQUIRE(msgs.size() == 1);
    CHECK(msgs[0].data.find("Subject: big\r\n\r\n" + body) != std::string::npos);
}

}  // namespace
}  // namespace postern::smtp::testing
