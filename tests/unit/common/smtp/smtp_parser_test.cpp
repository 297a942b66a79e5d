#include "common/smtp/smtp_parser.h"

#include <doctest/doctest.h>

#include <ostream>
#include <string>

namespace postern::smtp {
namespace {

struct Row {
    std::string line;
    bool smtputf8_tx = false;  // ParseOptions::smtputf8
    int code = 0;              // 0: must parse
    std::string enhanced = {};
    Verb verb = Verb::Unknown;
    std::string argument = {};
    std::string address = {};  // Path::address() for MAIL/RCPT
    bool null_path = false;
    std::optional<std::uint64_t> size = {};
    bool smtputf8 = false;
    std::uint8_t notify = 0;
    std::uint64_t bdat_bytes = 0;
    bool bdat_last = false;
};

std::ostream& operator<<(std::ostream& os, const Row& row) {
    return os << "line=\"" << row.line << "\" smtputf8_tx=" << row.smtputf8_tx;
}

const Row kRows[] = {
    // Greetings.
    {.line = "EHLO mx.example.org", .verb = Verb::Ehlo, .argument = "mx.example.org"},
    {.line = "ehlo [192.0.2.1]", .verb = Verb::Ehlo, .argument = "[192.0.2.1]"},
    {.line = "HeLo x", .verb = Verb::Helo, .argument = "x"},
    {.line = "LHLO mda.local", .verb = Verb::Lhlo, .argument = "mda.local"},
    {.line = "EHLO", .code = 501, .enhanced = "5.5.4"},
    {.line = "EHLO ", .code = 501},
    // MAIL.
    {.line = "MAIL FROM:<a@b>", .verb = Verb::Mail, .argument = "FROM:<a@b>", .address = "a@b"},
    {.line = "MAIL FROM:<a@b> SIZE=100",
     .verb = Verb::Mail,
     .argument = "FROM:<a@b> SIZE=100",
     .address = "a@b",
     .size = 100},
    {.line = "mail from:<A@B.Example>",
     .verb = Verb::Mail,
     .argument = "from:<A@B.Example>",
     .address = "A@b.example"},
    {.line = "MAIL FROM: <a@b>",
     .verb = Verb::Mail,
     .argument = "FROM: <a@b>",
     .address = "a@b"},  // the one tolerated SP (as Postfix)
    {.line = "MAIL FROM:  <a@b>", .code = 501},
    {.line = "MAIL FROM :<a@b>", .code = 501},
    {.line = "MAIL  FROM:<a@b>", .code = 501},
    {.line = "MAIL FROM:a@b", .code = 501},
    {.line = "MAIL FROM:<a@b> ", .code = 501},
    {.line = "MAIL FROM:<a@b>SIZE=1", .code = 501},
    {.line = "MAIL TO:<a@b>", .code = 501},
    {.line = "MAIL", .code = 501},
    {.line = "MAIL FROM:<>", .verb = Verb::Mail, .argument = "FROM:<>", .null_path = true},
    {.line = "MAIL FROM:<> BODY=8BITMIME",
     .verb = Verb::Mail,
     .argument = "FROM:<> BODY=8BITMIME",
     .null_path = true},
    {.line = "MAIL FROM:<a@b> SIZE=1 SIZE=2", .code = 501, .enhanced = "5.5.4"},
    {.line = "MAIL FROM:<a@b> FOO=1", .code = 555, .enhanced = "5.5.4"},
    {.line = "MAIL FROM:<a b@c>", .code = 501, .enhanced = "5.1.7"},
    {.line = "MAIL FROM:<Postmaster>", .code = 501, .enhanced = "5.1.7"},
    // SMTPUTF8 on MAIL decides for its own path.
    {.line = "MAIL FROM:<j\xc3\xb6@x> SMTPUTF8",
     .verb = Verb::Mail,
     .argument = "FROM:<j\xc3\xb6@x> SMTPUTF8",
     .address = "j\xc3\xb6@x",
     .smtputf8 = true},
    {.line = "MAIL FROM:<j\xc3\xb6@x>", .code = 553, .enhanced = "5.6.7"},
    {.line = "MAIL FROM:<j\xc3\xb6@x> SIZE=1", .code = 553, .enhanced = "5.6.7"},
    // RCPT.
    {.line = "RCPT TO:<c@d>", .verb = Verb::Rcpt, .argument = "TO:<c@d>", .address = "c@d"},
    {.line = "rcpt to: <c@d>", .verb = Verb::Rcpt, .argument = "to: <c@d>", .address = "c@d"},
    {.line = "RCPT TO:<Postmaster>",
     .verb = Verb::Rcpt,
     .argument = "TO:<Postmaster>",
     .address = "Postmaster"},
    {.line = "RCPT TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d",
     .verb = Verb::Rcpt,
     .argument = "TO:<c@d> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;c@d",
     .address = "c@d",
     .notify = kNotifySuccess | kNotifyFailure},
    {.line = "RCPT TO:<c@d> SIZE=1", .code = 555},
    {.line = "RCPT TO:<>", .code = 501, .enhanced = "5.1.3"},
    {.line = "RCPT FROM:<c@d>", .code = 501},
    {.line = "RCPT TO:<@relay.org:c@d>",
     .verb = Verb::Rcpt,
     .argument = "TO:<@relay.org:c@d>",
     .address = "c@d"},
    {.line = "RCPT TO:<\xc3\xa9@d>", .code = 553, .enhanced = "5.6.7"},
    {.line = "RCPT TO:<\xc3\xa9@d>",
     .smtputf8_tx = true,
     .verb = Verb::Rcpt,
     .argument = "TO:<\xc3\xa9@d>",
     .address = "\xc3\xa9@d"},
    // Argument-less verbs.
    {.line = "DATA", .verb = Verb::Data},
    {.line = "data", .verb = Verb::Data},
    {.line = "DATA x", .code = 501, .enhanced = "5.5.4"},
    {.line = "DATA ", .code = 501},
    {.line = "RSET", .verb = Verb::Rset},
    {.line = "QUIT", .verb = Verb::Quit},
    {.line = "QUIT now", .code = 501},
    {.line = "STARTTLS", .verb = Verb::Starttls},
    {.line = "STARTTLS x", .code = 501},
    // Optional and required free text.
    {.line = "NOOP", .verb = Verb::Noop},
    {.line = "NOOP hello there", .verb = Verb::Noop, .argument = "hello there"},
    {.line = "HELP", .verb = Verb::Help},
    {.line = "HELP MAIL", .verb = Verb::Help, .argument = "MAIL"},
    {.line = "VRFY postmaster", .verb = Verb::Vrfy, .argument = "postmaster"},
    {.line = "VRFY", .code = 501},
    {.line = "EXPN list", .verb = Verb::Expn, .argument = "list"},
    {.line = "AUTH PLAIN AGFAYgBj", .verb = Verb::Auth, .argument = "PLAIN AGFAYgBj"},
    {.line = "AUTH", .code = 501},
    // BDAT (RFC 3030).
    {.line = "BDAT 1000", .verb = Verb::Bdat, .argument = "1000", .bdat_bytes = 1000},
    {.line = "BDAT 0 LAST", .verb = Verb::Bdat, .argument = "0 LAST", .bdat_last = true},
    {.line = "bdat 42 last",
     .verb = Verb::Bdat,
     .argument = "42 last",
     .bdat_bytes = 42,
     .bdat_last = true},
    {.line = "BDAT 18446744073709551615",
     .verb = Verb::Bdat,
     .argument = "18446744073709551615",
     .bdat_bytes = 18446744073709551615ull},
    {.line = "BDAT 18446744073709551616", .code = 501},
    {.line = "BDAT", .code = 501},
    {.line = "BDAT x", .code = 501},
    {.line = "BDAT -1", .code = 501},
    {.line = "BDAT 10 FIRST", .code = 501},
    {.line = "BDAT 10  LAST", .code = 501},
    {.line = "BDAT 10 LAST ", .code = 501},
    // Unknown verbs parse; the session answers 500 5.5.1.
    {.line = "XYZZY", .verb = Verb::Unknown, .argument = ""},
    {.line = "GET / HTTP/1.1", .verb = Verb::Unknown, .argument = "/ HTTP/1.1"},
    {.line = "MAILFROM:<a@b>", .verb = Verb::Unknown},
    {.line = "EHLOx", .verb = Verb::Unknown},
    // Bytes the framer should never let through.
    {.line = "", .code = 500, .enhanced = "5.5.2"},
    {.line = std::string("NOOP \0x", 7), .code = 500, .enhanced = "5.5.2"},
    {.line = "NOOP a\rb", .code = 500},
    {.line = "NOOP a\nb", .code = 500},
    {.line = " EHLO x", .code = 500, .enhanced = "5.5.2"},
};

TEST_CASE("parse_command table") {
    for (const Row& row : kRows) {
        CAPTURE(row);
        auto got = parse_command(row.line, {.smtputf8 = row.smtputf8_tx});
        if (row.code != 0) {
            REQUIRE_MESSAGE(!got.ok(), "got verb ", got.ok() ? verb_name(got->verb) : "",
                            ", want error ", row.code);
            CHECK_MESSAGE(got.error().code == row.code, "got ", got.error().code, ", want ",
                          row.code);
            if (!row.enhanced.empty()) {
                CHECK_MESSAGE(got.error().enhanced == row.enhanced, "got ", got.error().enhanced,
                              ", want ", row.enhanced);
            }
            continue;
        }
        REQUIRE_MESSAGE(got.ok(), "got error ", got.ok() ? 0 : got.error().code, " ",
                        got.ok() ? "" : got.error().text, ", want success");
        const Command& cmd = *got;
        CHECK_MESSAGE(cmd.verb == row.verb, "got ", verb_name(cmd.verb), ", want ",
                      verb_name(row.verb));
        if (row.verb != Verb::Unknown || !row.argument.empty()) {
            CHECK_MESSAGE(cmd.argument == row.argument, "got '", cmd.argument, "', want '",
                          row.argument, "'");
        }
        CHECK(cmd.raw_verb == row.line.substr(0, row.line.find(' ')));
        if (row.verb == Verb::Mail || row.verb == Verb::Rcpt) {
            CHECK_MESSAGE(cmd.path.address() == row.address, "got '", cmd.path.address(),
                          "', want '", row.address, "'");
            CHECK(cmd.path.is_null == row.null_path);
        }
        CHECK(cmd.mail_params.size == row.size);
        CHECK(cmd.mail_params.smtputf8 == row.smtputf8);
        CHECK(cmd.rcpt_params.notify == row.notify);
        CHECK(cmd.bdat.chunk_bytes == row.bdat_bytes);
        CHECK(cmd.bdat.last == row.bdat_last);
    }
}

TEST_CASE("RCPT exposes relay tricks for policy") {
    auto got = parse_command("RCPT TO:<@hop.org:\"u%v@w\"@x.org>");
    REQUIRE(got.ok());
    CHECK(got->path.had_source_route);
    CHECK(got->path.percent_hack);
    CHECK(got->path.quoted_at);
    CHECK(got->path.domain == "x.org");
}

TEST_CASE("errors never echo client bytes") {
    auto got = parse_command("MAIL FROM:<\x1b[31mred@x>");
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().text.find("red") == std::string::npos);
}

TEST_CASE("verb_name is the canonical spelling") {
    CHECK(verb_name(Verb::Starttls) == "STARTTLS");
    CHECK(verb_name(Verb::Lhlo) == "LHLO");
    CHECK(verb_name(Verb::Unknown) == "?");
}

}  // namespace
}  // namespace postern::smtp
