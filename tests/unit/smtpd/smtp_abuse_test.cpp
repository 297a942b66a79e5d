// Abuse of the MX profile beyond the basics in smtp_session_test.cpp:
// foreign protocols, oversized data, pipelining violations.
#include "tests/unit/smtpd/smtp_test_harness.h"

namespace postern::smtp::testing {
namespace {

TEST_CASE("mx: an HTTP request on the SMTP port is cut off at once") {
    Harness h;
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.send("POST / HTTP/1.1\r\nHost: mx\r\nContent-Length: 5\r\n\r\nMAIL FROM:<a@b>\r\n");
        got.push_back(c.line());
        got.push_back(c.line());
    });
    REQUIRE(got.size() == 2);
    CHECK_MESSAGE(code_is(got[0], "221 2.7.0"), "got " << got[0]);
    CHECK_MESSAGE(got[1] == "<eof>", "got " << got[1] << ", want <eof>");
}

}  // namespace
}  // namespace postern::smtp::testing

namespace postern::smtp::testing {
namespace {

TEST_CASE("mx: a DATA line over the data line cap sinks the message, not the session") {
    SmtpLimits limits;
    limits.max_data_line_bytes = 100;
    Harness h(opts_limits(limits));
    std::string got, next;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
        c.cmd("DATA");
        got = c.cmd("Subject: x\r\n\r\n" + std::string(300, 'y') + "\r\nshort\r\n.");
        next = c.cmd("NOOP");
    });
    CHECK_MESSAGE(code_is(got, "550 5.6.0"), "got " << got);
    CHECK(code_is(next, "250"));
    CHECK(h.lmtp->messages().empty());
}

TEST_CASE("mx: big_data over BDAT is refused after the chunk, later chunks are eaten") {
    SmtpLimits limits;
    limits.max_message_bytes = 1024;
    Harness h(opts_limits(limits));
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        REQUIRE(start_transaction(c, "a@remote.example", "alice@example.test"));
        c.send("BDAT 2000\r\n" + std::string(2000, 'x') + "BDAT 6 LAST\r\nQUIT\r\n");
        got.push_back(c.reply());
        got.push_back(c.reply());
        got.push_back(c.cmd("NOOP"));
    });
    std::vector<std::string> want = {"552 5.3.4", "503 5.5.1", "250 2.0.0"};
    check_codes(got, want);
    CHECK(h.lmtp->messages().empty());
}

}  // namespace
}  // namespace postern::smtp::testing

namespace postern::smtp::testing {
namespace {

TEST_CASE("mx: commands pipelined behind EHLO are answered, and the violation logged") {
    std::string logs;
    log::capture_for_test(&logs);
    Harness h;
    std::vector<std::string> got;
    h.run([&] {
        Client c(h.address());
        c.reply();
        c.send("EHLO client.test\r\nMAIL FROM:<a@remote.example>\r\n");
        got.push_back(c.reply());
        got.push_back(c.reply());
    });
    log::capture_for_test(nullptr);
    REQUIRE(got.size() == 2);
    CHECK(code_is(got[0], "250 HELP"));
    CHECK(code_is(got[1], "250 2.1.0"));
    CHECK_MESSAGE(logs.find("improper-pipelining after=EHLO") != std::string::npos,
                  "no log line in: " << logs.substr(0, 300));
}

}  // namespace
}  // namespace postern::smtp::testing
