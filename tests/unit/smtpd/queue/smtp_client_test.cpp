// The client's pure parts: reading EHLO capabilities and making remote
// replies safe to keep.
#include <doctest/doctest.h>

#include "smtpd/queue/smtp_client.h"
#include "smtpd/queue/smtp_client_session.h"

namespace postern::queue {
namespace {

smtp::Reply parse_one(std::string_view wire) {
    smtp::ReplyParser parser;
    parser.feed(wire);
    auto next = parser.next();
    REQUIRE(next.status == smtp::ReplyParser::Status::Complete);
    return next.reply;
}

TEST_CASE("parse_ehlo: keywords case-insensitive, SIZE argument, AUTH mechanisms") {
    auto caps =
        parse_ehlo(parse_one("250-mx.example Hello\r\n250-pipelining\r\n250-SIZE 35882577\r\n"
                             "250-8BITMIME\r\n250-STARTTLS\r\n250-auth plain Login  XOAUTH2\r\n"
                             "250-DSN\r\n250 SMTPUTF8\r\n"));
    CHECK(caps.esmtp);
    CHECK(caps.pipelining);
    CHECK(caps.size);
    CHECK_MESSAGE(caps.max_size == 35882577u, "got ", caps.max_size);
    CHECK(caps.eightbitmime);
    CHECK(caps.starttls);
    CHECK(caps.dsn);
    CHECK(caps.smtputf8);
    CHECK(caps.auth == std::vector<std::string>{"PLAIN", "LOGIN", "XOAUTH2"});

    // The greeting line's words are not keywords; SIZE without a limit is 0.
    auto bare = parse_ehlo(parse_one("250-PIPELINING STARTTLS\r\n250 SIZE\r\n"));
    CHECK_FALSE(bare.pipelining);
    CHECK(bare.size);
    CHECK(bare.max_size == 0);
    CHECK_FALSE(bare.starttls);
}

TEST_CASE("sanitize_reply: odd codes and mismatched enhanced codes") {
    struct Case {
        smtp::Reply in;
        int code;
        std::string enhanced;
    };
    const Case cases[] = {
        {{250, "2.0.0", {"ok"}}, 250, "2.0.0"},  {{550, "4.1.1", {"mismatch"}}, 550, ""},
        {{450, "4.2.x", {"bad"}}, 450, ""},      {{599, "", {"too high"}}, 554, "5.5.0"},
        {{354, "", {"go ahead"}}, 451, "4.5.0"}, {{100, "", {"low"}}, 451, "4.5.0"},
    };
    for (const auto& c : cases) {
        auto out = sanitize_reply(c.in);
        CHECK_MESSAGE(out.code == c.code, "in ", c.in.code, ": got ", out.code, ", want ", c.code);
        CHECK_MESSAGE(out.enhanced == c.enhanced, "in ", c.in.code, ": got ", out.enhanced,
                      ", want ", c.enhanced);
        // Whatever came in, rendering it must not trip format_reply's asserts.
        CHECK_FALSE(smtp::format_reply(out).empty());
    }
}

}  // namespace
}  // namespace postern::queue
