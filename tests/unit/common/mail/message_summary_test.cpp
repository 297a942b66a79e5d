#include "common/mail/message_summary.h"

#include <doctest/doctest.h>

#include <string>

namespace postern::mail {

namespace {

// Test messages are written with \n and converted, so that rows stay readable.
std::string crlf(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') out += '\r';
        out += c;
    }
    return out;
}

struct Row {
    const char* name;
    std::string message;
    std::string envelope;
    std::string bodystructure;
    std::string body;  // empty: not checked
};

const std::string kNilEnvelope = "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)";

const Row kRows[] = {
    {.name = "plain_text",
     .message = crlf("From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: Hi\n"
                     "Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <1@example.com>\n"
                     "\nHello\nWorld\n"),
     .envelope = R"(("Mon, 1 Jan 2024 10:00:00 +0000" "Hi" (("Alice" NIL "alice" "example.com")))"
                 R"( (("Alice" NIL "alice" "example.com")) (("Alice" NIL "alice" "example.com")))"
                 R"( ((NIL NIL "bob" "example.org")) NIL NIL NIL "<1@example.com>"))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL))",
     .body = R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2))"},
    {.name = "sender_and_reply_to_present",
     .message = crlf("From: a@x\nSender: s@x\nReply-To: r@x\nCc: c@x\nBcc: b@x\n"
                     "In-Reply-To: <p@x>\n\n"),
     .envelope = R"((NIL NIL ((NIL NIL "a" "x")) ((NIL NIL "s" "x")) ((NIL NIL "r" "x")) NIL)"
                 R"( ((NIL NIL "c" "x")) ((NIL NIL "b" "x")) "<p@x>" NIL))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "multipart_alternative",
     .message = crlf("MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n"
                     "preamble\n--b1\nContent-Type: text/plain; charset=utf-8\n\nplain\n"
                     "--b1\nContent-Type: text/html; charset=utf-8\n"
                     "Content-Transfer-Encoding: quoted-printable\n\n<p>html</p>\n--b1--\n"
                     "epilogue\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"((("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 0 NIL NIL NIL NIL))"
         R"(("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 11 0 NIL NIL NIL NIL))"
         R"( "alternative" ("boundary" "b1") NIL NIL NIL))",
     .body =
         R"((("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 5 0))"
         R"(("text" "html" ("charset" "utf-8") NIL NIL "quoted-printable" 11 0) "alternative"))"},
    {.name = "nested_mixed_with_rfc2231_attachment",
     .message = crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=outer\n\n"
                     "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n"
                     "--inner\nContent-Type: text/plain\n\ntext\n"
                     "--inner\nContent-Type: text/html\n\n<b>x</b>\n--inner--\n\n"
                     "--outer\nContent-Type: application/pdf; name=\"r.pdf\"\n"
                     "Content-Disposition: attachment;\n filename*0*=utf-8''%E2%82%AC;\n"
                     " filename*1=\" rates.pdf\"\nContent-Transfer-Encoding: base64\n"
                     "Content-ID: <att1@x>\nContent-Description: the report\n"
                     "Content-Language: en\nContent-Location: r.pdf\nContent-MD5: abc=\n\nAAAA\n"
                     "--outer--\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"(((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 0 NIL NIL NIL NIL))"
         R"(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 8 0 NIL NIL NIL NIL))"
         R"( "alternative" ("boundary" "inner") NIL NIL NIL))"
         R"(("application" "pdf" ("name" "r.pdf") "<att1@x>" "the report" "base64" 4 "abc=")"
         R"( ("attachment" ("filename*" "utf-8''%E2%82%AC rates.pdf")) ("en") "r.pdf"))"
         R"( "mixed" ("boundary" "outer") NIL NIL NIL))",
     .body = R"(((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 4 0))"
             R"(("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 8 0) "alternative"))"
             R"(("application" "pdf" ("name" "r.pdf") "<att1@x>" "the report" "base64" 4))"
             R"( "mixed"))"},
    {.name = "message_rfc822_attachment",
     .message = crlf("MIME-Version: 1.0\nFrom: a@b.c\nSubject: fwd\n"
                     "Content-Type: multipart/mixed; boundary=x\n\n"
                     "--x\nContent-Type: text/plain\n\nsee attached\n"
                     "--x\nContent-Type: message/rfc822\n\n"
                     "From: Carol <carol@example.net>\nSubject: inner\n"
                     "Date: Tue, 2 Jan 2024 00:00:00 +0000\n\ninner body\n--x--\n"),
     .envelope = R"((NIL "fwd" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")))"
                 R"( NIL NIL NIL NIL NIL))",
     .bodystructure =
         R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 0 NIL NIL NIL NIL))"
         R"(("message" "rfc822" NIL NIL NIL "7bit" 99)"
         R"( ("Tue, 2 Jan 2024 00:00:00 +0000" "inner" (("Carol" NIL "carol" "example.net")))"
         R"( (("Carol" NIL "carol" "example.net")) (("Carol" NIL "carol" "example.net")))"
         R"( NIL NIL NIL NIL NIL))"
         R"( ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0 NIL NIL NIL NIL) 4)"
         R"( NIL NIL NIL NIL) "mixed" ("boundary" "x") NIL NIL NIL))",
     .body = ""},
    {.name = "encoded_word_subject_kept_raw",
     .message = crlf("Subject: =?UTF-8?B?SGVsbG8gV29ybGQ=?=\n\nx"),
     .envelope = R"((NIL "=?UTF-8?B?SGVsbG8gV29ybGQ=?=" NIL NIL NIL NIL NIL NIL NIL NIL))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "subject_cleanup_and_quotes",
     .message = crlf("Subject:   a\tb   \"c\"  \n\n"),
     .envelope = "(NIL {7}\r\na b \"c\" NIL NIL NIL NIL NIL NIL NIL NIL)",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "group_addresses",
     .message = crlf("From: a@x\nTo: Friends: b@y, \"C, Carl\" <c@z>;, d@w\n"
                     "Cc: undisclosed-recipients:;\n\n"),
     .envelope =
         R"((NIL NIL ((NIL NIL "a" "x")) ((NIL NIL "a" "x")) ((NIL NIL "a" "x")))"
         R"( ((NIL NIL "Friends" NIL)(NIL NIL "b" "y")("C, Carl" NIL "c" "z")(NIL NIL NIL NIL))"
         R"((NIL NIL "d" "w")))"
         R"( ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL)) NIL NIL NIL))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "missing_headers_are_nil",
     .message = crlf("X-Other: 1\n\nbody\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 6 1 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "empty_sender_falls_back_to_from",
     .message = crlf("From: a@x\nSender:\nReply-To: ,\n\n"),
     .envelope = R"((NIL NIL ((NIL NIL "a" "x")) ((NIL NIL "a" "x")) ((NIL NIL "a" "x")))"
                 R"( NIL NIL NIL NIL NIL))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "bare_lf_sizes_are_crlf_sizes",
     .message = "From: a@b.c\nSubject: lf\n\nline1\nline2\n",
     .envelope = R"((NIL "lf" ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")) ((NIL NIL "a" "b.c")))"
                 R"( NIL NIL NIL NIL NIL))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "missing_end_boundary_and_padding",
     .message = crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=zz\n\n"
                     "--zz  \nContent-Type: text/plain\n\none\n--zz\t\n\ntwo\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 3 0 NIL NIL NIL NIL))"
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1 NIL NIL NIL NIL))"
         R"( "mixed" ("boundary" "zz") NIL NIL NIL))",
     .body = ""},
    {.name = "boundary_never_seen",
     .message = crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=q\n\nno parts\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))"
         R"( "mixed" ("boundary" "q") NIL NIL NIL))",
     .body = R"((("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) "mixed"))"},
    // RFC 2046 §5.1.1 makes "boundary" mandatory; without it the field is
    // invalid and RFC 2045 §5.2's default applies (Dovecot invents an empty
    // text/plain child instead, hiding the body).
    {.name = "multipart_without_boundary_is_text_plain",
     .message = crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nabc\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1 NIL NIL NIL NIL))",
     .body = R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1))"},
    {.name = "no_mime_version_ignores_content_type",
     .message =
         crlf("Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n<p>\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 1 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "invalid_content_type_defaults",
     .message =
         crlf("MIME-Version: 1.0\nContent-Type: garbage\nContent-Transfer-Encoding: ?x\n\nb"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "digest_defaults_to_message_rfc822",
     .message = crlf("MIME-Version: 1.0\nContent-Type: multipart/digest; boundary=d\n\n"
                     "--d\n\nSubject: s\n\nm\n--d--\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"((("message" "rfc822" NIL NIL NIL "7bit" 15)"
         R"( (NIL "s" NIL NIL NIL NIL NIL NIL NIL NIL))"
         R"( ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 1 0 NIL NIL NIL NIL) 2)"
         R"( NIL NIL NIL NIL) "digest" ("boundary" "d") NIL NIL NIL))",
     .body = ""},
    {.name = "eight_bit_header_uses_literals",
     .message = crlf("Subject: caf\xc3\xa9\nFrom: J\xc3\xb6rg <j@x.de>\n\n"),
     .envelope =
         "(NIL {5}\r\ncaf\xc3\xa9 (({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.de\"))"
         " (({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.de\")) (({5}\r\nJ\xc3\xb6rg NIL \"j\" \"x.de\"))"
         " NIL NIL NIL NIL NIL)",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = ""},
    // A present but empty boundary is no better than none.
    {.name = "multipart_with_empty_boundary",
     .message = crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"\"\n\n"
                     "--\n\nhi\n"),
     .envelope = kNilEnvelope,
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 3 NIL NIL NIL NIL))",
     .body = ""},
    // An empty phrase is NIL, not "": clients then show the address.
    {.name = "empty_display_name",
     .message = crlf("From: \"\" <a@x>\nTo: \"\" <b@y>, C <c@y>\n\n"),
     .envelope = R"((NIL NIL ((NIL NIL "a" "x")) ((NIL NIL "a" "x")) ((NIL NIL "a" "x")))"
                 R"( ((NIL NIL "b" "y")("C" NIL "c" "y")) NIL NIL NIL NIL))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = ""},
    {.name = "empty_message",
     .message = "",
     .envelope = kNilEnvelope,
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0))"},
    {.name = "headers_only",
     .message = "Subject: only\r\nFrom: a@x",
     .envelope =
         R"((NIL "only" ((NIL NIL "a" "x")) ((NIL NIL "a" "x")) ((NIL NIL "a" "x")) NIL NIL NIL NIL NIL))",
     .bodystructure =
         R"(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0 NIL NIL NIL NIL))",
     .body = ""},
};

}  // namespace

TEST_CASE("ENVELOPE, BODYSTRUCTURE and BODY match RFC 3501 as Dovecot renders them") {
    for (const Row& row : kRows) {
        CAPTURE(row.name);
        MessageSummary s = summarize(row.message);
        CHECK_MESSAGE(s.envelope == row.envelope, "ENVELOPE\n got  ", s.envelope, "\n want ",
                      row.envelope);
        CHECK_MESSAGE(s.bodystructure == row.bodystructure, "BODYSTRUCTURE\n got  ",
                      s.bodystructure, "\n want ", row.bodystructure);
        if (!row.body.empty()) {
            CHECK_MESSAGE(s.body == row.body, "BODY\n got  ", s.body, "\n want ", row.body);
        }
    }
}

// The mda may store bare-LF files; IMAP sees CRLF either way, so every
// rendered value and every _crlf size must be the same for both forms.
TEST_CASE("bare LF and CRLF forms of a message render identically") {
    for (const Row& row : kRows) {
        CAPTURE(row.name);
        std::string lf;
        for (char c : row.message) {
            if (c != '\r') lf += c;
        }
        MessageSummary a = summarize(row.message);
        MessageSummary b = summarize(lf);
        CHECK(a.envelope == b.envelope);
        CHECK(a.bodystructure == b.bodystructure);
        CHECK(a.body == b.body);
        CHECK(a.size_crlf == b.size_crlf);
        REQUIRE(a.sections.size() == b.sections.size());
        for (std::size_t i = 0; i < a.sections.size(); ++i) {
            CHECK(a.sections[i].section == b.sections[i].section);
            CHECK(a.sections[i].body_size_crlf == b.sections[i].body_size_crlf);
            CHECK(a.sections[i].header_size_crlf == b.sections[i].header_size_crlf);
        }
    }
}

// Dovecot's own test message and expected output (src/lib-imap/
// test-imap-bodystructure.c), our oracle: bare LF input, a boundary folded
// inside a quoted string, an invalid transfer encoding, prologues and
// epilogues, and an encapsulated multipart without MIME-Version.
TEST_CASE("Dovecot's test-imap-bodystructure message renders identically") {
    const std::string msg =
        "From: user@domain.org\n"
        "Date: Sat, 24 Mar 2007 23:00:00 +0200\n"
        "Mime-Version: 1.0\n"
        "Content-Type: multipart/mixed; boundary=\"foo\n"
        " bar\"\n"
        "\n"
        "Root MIME prologue\n"
        "\n"
        "--foo bar\n"
        "Content-Type: text/x-myown; charset=us-ascii; foo=\"quoted\\\"string\"\n"
        "Content-ID: <foo@example.com>\n"
        "Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==\n"
        "Content-Disposition: inline; foo=bar\n"
        "Content-Description: hellodescription\n"
        "Content-Language: en, fi, se\n"
        "Content-Location: http://example.com/test.txt\n"
        "\n"
        "hello\n"
        "\n"
        "--foo bar\n"
        "Content-Type: message/rfc822\n"
        "\n"
        "From: sub@domain.org\n"
        "To: sub-to1@domain.org, sub-to2@domain.org\n"
        "Date: Sun, 12 Aug 2012 12:34:56 +0300\n"
        "Subject: submsg\n"
        "Content-Type: multipart/alternative; boundary=\"sub1\"\n"
        "\n"
        "Sub MIME prologue\n"
        "--sub1\n"
        "Content-Type: text/html\n"
        "Content-Transfer-Encoding: 8bit\n"
        "\n"
        "<p>Hello world</p>\n"
        "\n"
        "--sub1\n"
        "Content-Type: text/plain\n"
        "Content-Transfer-Encoding: ?invalid\n"
        "\n"
        "Hello another world\n"
        "\n"
        "--sub1--\n"
        "Sub MIME epilogue\n"
        "\n"
        "--foo bar--\n"
        "Root MIME epilogue\n";
    const std::string want_bodystructure =
        "(\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") "
        "\"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1 \"Q2hlY2sgSW50ZWdyaXR5IQ==\" "
        "(\"inline\" (\"foo\" \"bar\")) (\"en\" \"fi\" \"se\") \"http://example.com/test.txt\")"
        "(\"message\" \"rfc822\" NIL NIL NIL \"7bit\" 412 (\"Sun, 12 Aug 2012 12:34:56 +0300\" "
        "\"submsg\" ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL "
        "NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" "
        "\"domain.org\")) NIL NIL NIL NIL) ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL "
        "\"8bit\" 20 1 NIL NIL NIL NIL)(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL "
        "\"7bit\" 21 1 NIL NIL NIL NIL) \"alternative\" (\"boundary\" \"sub1\") NIL NIL NIL) 21 "
        "NIL NIL NIL NIL) \"mixed\" (\"boundary\" \"foo bar\") NIL NIL NIL";
    const std::string want_body =
        "(\"text\" \"x-myown\" (\"charset\" \"us-ascii\" \"foo\" \"quoted\\\"string\") "
        "\"<foo@example.com>\" \"hellodescription\" \"7bit\" 7 1)(\"message\" \"rfc822\" NIL NIL "
        "NIL \"7bit\" 412 (\"Sun, 12 Aug 2012 12:34:56 +0300\" \"submsg\" ((NIL NIL \"sub\" "
        "\"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) ((NIL NIL \"sub\" \"domain.org\")) "
        "((NIL NIL \"sub-to1\" \"domain.org\")(NIL NIL \"sub-to2\" \"domain.org\")) NIL NIL NIL "
        "NIL) ((\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"8bit\" 20 1)(\"text\" "
        "\"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 21 1) \"alternative\") 21) "
        "\"mixed\"";
    MessageSummary s = summarize(msg);
    // Dovecot's writer omits the outer parentheses that FETCH adds.
    CHECK_MESSAGE(s.bodystructure == "(" + want_bodystructure + ")", "got  ", s.bodystructure,
                  "\nwant (", want_bodystructure, ")");
    CHECK_MESSAGE(s.body == "(" + want_body + ")", "got  ", s.body, "\nwant (", want_body, ")");
}

TEST_CASE("section map: offsets and sizes address BODY[section], .MIME, .HEADER, .TEXT") {
    const std::string msg = crlf(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n"
        "--x\nContent-Type: text/plain\n\nsee attached\n"
        "--x\nContent-Type: message/rfc822\nContent-Transfer-Encoding: 8BIT\n\n"
        "Subject: inner\nContent-Type: multipart/alternative; boundary=y\n\n"
        "--y\n\nalt one\n--y\n\nalt two\n--y--\n--x--\n");
    MessageSummary s = summarize(msg);
    auto text_of = [&](std::size_t off, std::size_t size) { return msg.substr(off, size); };

    std::vector<std::string> names;
    for (const SectionInfo& info : s.sections)
        names.push_back(info.section);
    CHECK(names == std::vector<std::string>{"", "1", "2", "2.1", "2.2"});

    const SectionInfo* whole = find_section(s, "");
    REQUIRE(whole != nullptr);
    CHECK(text_of(whole->header_offset, whole->header_size) ==
          crlf("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n"));
    CHECK(whole->body_offset + whole->body_size == msg.size());

    const SectionInfo* one = find_section(s, "1");
    REQUIRE(one != nullptr);
    CHECK(text_of(one->body_offset, one->body_size) == "see attached");
    CHECK(text_of(one->header_offset, one->header_size) == crlf("Content-Type: text/plain\n\n"));

    const SectionInfo* two = find_section(s, "2");
    REQUIRE(two != nullptr);
    CHECK(two->message);
    CHECK(two->encoding == "8bit");
    CHECK(text_of(two->body_offset, two->inner_header_size) ==
          crlf("Subject: inner\nContent-Type: multipart/alternative; boundary=y\n\n"));
    CHECK(text_of(two->body_offset + two->inner_header_size,
                  two->body_size - two->inner_header_size) ==
          crlf("--y\n\nalt one\n--y\n\nalt two\n--y--"));

    const SectionInfo* alt2 = find_section(s, "2.2");
    REQUIRE(alt2 != nullptr);
    CHECK(text_of(alt2->body_offset, alt2->body_size) == "alt two");
    CHECK(alt2->header_size == 2);
    CHECK(find_section(s, "3") == nullptr);
    CHECK(find_section(s, "2.3") == nullptr);

    CHECK(s.size == msg.size());
    CHECK(s.size_crlf == msg.size());
}

TEST_CASE("section map: a single-part message has part 1, its body") {
    const std::string msg = "Subject: x\n\nhello\n";
    MessageSummary s = summarize(msg);
    REQUIRE(s.sections.size() == 2);
    CHECK(s.sections[1].section == "1");
    CHECK(msg.substr(s.sections[1].body_offset, s.sections[1].body_size) == "hello\n");
    CHECK(s.sections[1].body_size_crlf == 7);
    CHECK(s.size == 18);
    CHECK(s.size_crlf == 21);  // three bare LFs
    CHECK(s.lines == 3);
}

TEST_CASE("an encapsulated single-part message is numbered N.1") {
    const std::string msg = crlf(
        "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n"
        "--x\nContent-Type: message/rfc822\n\nSubject: in\n\ninner text\n--x--\n");
    MessageSummary s = summarize(msg);
    const SectionInfo* inner = find_section(s, "1.1");
    REQUIRE(inner != nullptr);
    CHECK(msg.substr(inner->body_offset, inner->body_size) == "inner text");
}

TEST_CASE("serialization round-trips, 8-bit literals included") {
    for (const Row& row : kRows) {
        CAPTURE(row.name);
        MessageSummary s = summarize(row.message);
        std::string text = serialize(s);
        auto back = parse_summary(text);
        REQUIRE_MESSAGE(back.ok(), "parse_summary failed");
        CHECK(*back == s);
    }
}

TEST_CASE("parse_summary rejects damaged input without throwing") {
    MessageSummary s = summarize(crlf("Subject: x\n\nbody\n"));
    std::string good = serialize(s);
    const std::string bad[] = {
        "",
        "not json",
        "[]",
        "{}",
        good.substr(0, good.size() / 2),
        R"({"v":2,"env":"","bs":"","b":"","size":0,"vsize":0,"lines":0,"lim":false,"sec":[]})",
        R"({"v":1,"env":1,"bs":"","b":"","size":0,"vsize":0,"lines":0,"lim":false,"sec":[]})",
        R"({"v":1,"env":"","bs":"","b":"","size":-1,"vsize":0,"lines":0,"lim":false,"sec":[]})",
        R"({"v":1,"env":"","bs":"","b":"","size":0,"vsize":0,"lines":0,"lim":false,"sec":[[1]]})",
        R"({"v":1,"env":"\u20ac","bs":"","b":"","size":0,"vsize":0,"lines":0,"lim":false,"sec":[]})",
    };
    for (const std::string& text : bad) {
        CAPTURE(text);
        CHECK_FALSE(parse_summary(text).ok());
    }
    CHECK(parse_summary(good).ok());
}

}  // namespace postern::mail
