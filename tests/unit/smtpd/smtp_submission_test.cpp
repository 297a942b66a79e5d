// The submission profile over real sockets (plaintext on loopback with
// auth.allow_plaintext_on_loopback; TLS is covered by the integration tests).
#include <fstream>
#include <iterator>

#include "common/sasl/sasl.h"
#include "storage/queue_spool.h"
#include "tests/unit/smtpd/smtp_test_harness.h"

namespace postern::smtp::testing {
namespace {

std::string plain(const std::string& user, const std::string& password) {
    return sasl::base64_encode(std::string("\0", 1) + user + std::string("\0", 1) + password);
}

Options submission() {
    return opts_profile(submission_profile(false));
}

bool login(Client& c, const std::string& user = "alice@example.test") {
    if (!code_is(c.reply(), "220")) return false;
    if (!code_is(c.cmd("EHLO client.test"), "250")) return false;
    return code_is(c.cmd("AUTH PLAIN " + plain(user, kPassword)), "235 2.7.0");
}

TEST_CASE("submission: MAIL before AUTH gets 530 5.7.0") {
    Harness h(submission());
    std::string got;
    std::vector<std::string> ehlo;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.send("EHLO client.test\r\n");
        ehlo = c.reply_lines();
        got = c.cmd("MAIL FROM:<alice@example.test>");
    });
    CHECK_MESSAGE(code_is(got, "530 5.7.0"), "got " << got);
    CHECK(std::find(ehlo.begin(), ehlo.end(), "250-AUTH PLAIN LOGIN") != ehlo.end());
}

TEST_CASE("submission: AUTH over plaintext is refused with 538 5.7.11") {
    Options o = submission();
    o.allow_plaintext_auth_on_loopback = false;
    Harness h(o);
    std::string got;
    std::vector<std::string> ehlo;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.send("EHLO client.test\r\n");
        ehlo = c.reply_lines();
        got = c.cmd("AUTH PLAIN " + plain("alice@example.test", kPassword));
    });
    CHECK_MESSAGE(code_is(got, "538 5.7.11"), "got " << got);
    for (const auto& l : ehlo)
        CHECK_MESSAGE(l.find("AUTH") == std::string::npos, "AUTH offered before TLS: " << l);
}

TEST_CASE("submission: AUTH PLAIN and LOGIN, with and without initial response") {
    Harness h(submission());
    std::vector<std::string> got;
    h.run([&] {
        {
            Client c(h.address());
            c.reply();
            c.cmd("EHLO client.test");
            got.push_back(c.cmd("AUTH PLAIN"));
            got.push_back(c.cmd(plain("alice@example.test", kPassword)));
            got.push_back(c.cmd("AUTH PLAIN " + plain("alice@example.test", kPassword)));
        }
        {
            Client c(h.address());
            c.reply();
            c.cmd("EHLO client.test");
            got.push_back(c.cmd("AUTH LOGIN"));
            got.push_back(c.cmd(sasl::base64_encode("bob@example.test")));
            got.push_back(c.cmd(sasl::base64_encode(kPassword)));
        }
        {
            Client c(h.address());
            c.reply();
            c.cmd("EHLO client.test");
            got.push_back(c.cmd("AUTH LOGIN " + sasl::base64_encode("bob@example.test")));
            got.push_back(c.cmd("*"));
            got.push_back(c.cmd("AUTH CRAM-MD5"));
        }
    });
    std::vector<std::string> want = {
        "334",       "235 2.7.0",        "503 5.5.1", "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6",
        "235 2.7.0", "334 UGFzc3dvcmQ6", "501 5.7.0", "504 5.5.4"};
    check_codes(got, want);
}

TEST_CASE("submission: failed logins are throttled, then 454 4.7.0") {
    std::string logs;
    log::capture_for_test(&logs);
    Harness h(submission());  // max_failures 3, delays 50..200 ms
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.cmd("EHLO client.test");
        for (int i = 0; i < 4; ++i)
            got.push_back(c.cmd("AUTH PLAIN " + plain("alice@example.test", "wrong")));
        // Even the right password is refused while the block lasts.
        got.push_back(c.cmd("AUTH PLAIN " + plain("alice@example.test", kPassword)));
    });
    log::capture_for_test(nullptr);
    std::vector<std::string> want = {"535 5.7.8", "535 5.7.8", "454 4.7.0", "454 4.7.0",
                                     "454 4.7.0"};
    check_codes(got, want);
    CHECK_MESSAGE(
        logs.find("auth-failed rip=127.0.0.1 user=alice@example.test") != std::string::npos,
        "no fail2ban line in: " << logs.substr(0, 400));
    CHECK_MESSAGE(logs.find("wrong") == std::string::npos, "a password reached the log");
}

TEST_CASE("submission: the sender must belong to the user") {
    Harness h(submission());
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(login(c));
        got.push_back(c.cmd("MAIL FROM:<bob@example.test>"));
        got.push_back(c.cmd("MAIL FROM:<>"));
        got.push_back(c.cmd("MAIL FROM:<alice@other.test>"));
        got.push_back(c.cmd("MAIL FROM:<sales@example.test>"));  // alias -> alice
        got.push_back(c.cmd("RSET"));
        got.push_back(c.cmd("MAIL FROM:<ALICE+lists@example.test>"));
    });
    std::vector<std::string> want = {"553 5.7.1", "553 5.7.1", "553 5.7.1",
                                     "250 2.1.0", "250 2.0.0", "250 2.1.0"};
    check_codes(got, want);
}

TEST_CASE("submission: local delivery adds Message-ID and Date") {
    Harness h(submission());
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(login(c));
        got.push_back(c.cmd("MAIL FROM:<alice@example.test>"));
        got.push_back(c.cmd("RCPT TO:<bob@example.test>"));
        got.push_back(c.cmd("DATA"));
        got.push_back(c.cmd("Subject: hi\r\n\r\nhello bob\r\n."));
    });
    std::vector<std::string> want = {"250 2.1.0", "250 2.1.5", "354", "250 2.0.0"};
    check_codes(got, want);
    auto msgs = h.lmtp->messages();
    REQUIRE(msgs.size() == 1);
    const std::string& d = msgs[0].data;
    CHECK(d.find("\r\nMessage-ID: <") != std::string::npos);
    CHECK(d.find("\r\nDate: ") != std::string::npos);
    CHECK(d.find("with ESMTPA id") != std::string::npos);
    CHECK(d.find("from client.test ([127.0.0.1])") != std::string::npos);
}

TEST_CASE("submission: a remote recipient sends the whole message to the queue") {
    Harness h(submission());
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(login(c));
        got.push_back(c.cmd("MAIL FROM:<alice@example.test> RET=HDRS ENVID=e1"));
        got.push_back(c.cmd("RCPT TO:<someone@remote.example> NOTIFY=FAILURE,DELAY"));
        got.push_back(c.cmd("RCPT TO:<bob@example.test>"));
        got.push_back(c.cmd("DATA"));
        got.push_back(c.cmd("Subject: hi\r\n\r\nhello both\r\n."));
    });
    std::vector<std::string> want = {"250 2.1.0", "250 2.1.5", "250 2.1.5", "354", "250 2.0.0"};
    check_codes(got, want);
    CHECK_MESSAGE(h.lmtp->messages().empty(), "the queue delivers the local copy, not the session");
    auto spool = postern::store::QueueSpool::open(h.dir.path() / "queue");
    REQUIRE(spool.ok());
    auto ids = spool->list();
    REQUIRE(ids.ok());
    REQUIRE(ids->size() == 1);
    auto env = spool->load(ids->front());
    REQUIRE(env.ok());
    CHECK(env->sender == "alice@example.test");
    CHECK(env->envid == "e1");
    CHECK(env->submitted_by == "alice@example.test");
    REQUIRE(env->recipients.size() == 2);
    CHECK(env->recipients[0].address == "someone@remote.example");
    CHECK(env->recipients[0].notify ==
          (postern::store::kNotifyFailure | postern::store::kNotifyDelay));
    CHECK(env->recipients[1].address == "bob@example.test");
    std::ifstream in(spool->message_path(ids->front()), std::ios::binary);
    std::string stored((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(stored.starts_with("Received: from client.test"));
    CHECK(stored.ends_with("\r\nSubject: hi\r\n\r\nhello both\r\n"));
}

TEST_CASE("submission: hide_client_ip leaves the client out of Received") {
    Harness h(opts_profile(submission_profile(true)));
    h.run([&] {
        Client c(h.address());
        REQUIRE(login(c));
        c.cmd("MAIL FROM:<alice@example.test>");
        c.cmd("RCPT TO:<bob@example.test>");
        c.cmd("DATA");
        c.cmd("Message-ID: <x@y>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nhi\r\n.");
    });
    auto msgs = h.lmtp->messages();
    REQUIRE(msgs.size() == 1);
    const std::string& d = msgs[0].data;
    CHECK_MESSAGE(d.find("127.0.0.1") == std::string::npos, "client IP leaked: " << d);
    CHECK(d.rfind("Received: by mx.example.test", 0) == 0);
    // Present fields are not added twice.
    CHECK(d.find("Message-ID:") == d.rfind("Message-ID:"));
}

TEST_CASE("submission: the MX never relays, even for a logged-in looking client") {
    Harness h;  // MX profile: AUTH is not offered at all
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.cmd("EHLO client.test");
        got.push_back(c.cmd("AUTH PLAIN " + plain("alice@example.test", kPassword)));
        c.cmd("MAIL FROM:<alice@example.test>");
        got.push_back(c.cmd("RCPT TO:<someone@remote.example>"));
    });
    CHECK_MESSAGE(code_is(got[0], "502 5.5.1"), "got " << got[0]);
    CHECK_MESSAGE(code_is(got[1], "554 5.7.1"), "got " << got[1]);
}

}  // namespace
}  // namespace postern::smtp::testing
