#include "common/mail/header_parser.h"

#include <doctest/doctest.h>

#include <string>

namespace postern::mail {

namespace {

std::string render(const std::vector<Parameter>& params) {
    std::string out;
    for (const Parameter& p : params)
        out += "[" + p.name + "=" + p.value + "]";
    return out;
}

std::string render(const std::vector<Address>& list) {
    auto opt = [](const std::optional<std::string>& s) { return s ? "\"" + *s + "\"" : "NIL"; };
    std::string out;
    for (const Address& a : list) {
        out +=
            "(" + opt(a.name) + " " + opt(a.route) + " " + opt(a.mailbox) + " " + opt(a.host) + ")";
    }
    return out;
}

}  // namespace

TEST_CASE("header block: CRLF, bare LF, folding, junk lines, separator") {
    struct Row {
        const char* name;
        std::string text;
        std::vector<std::pair<std::string, std::string>> fields;  // name, unfolded value
        std::size_t size;
        bool separator;
    };
    const Row rows[] = {
        {.name = "crlf",
         .text = "A: 1\r\nB: 2\r\n\r\nbody",
         .fields = {{"A", "1"}, {"B", "2"}},
         .size = 14,
         .separator = true},
        {.name = "bare_lf",
         .text = "A: 1\nB:2\n\nbody",
         .fields = {{"A", "1"}, {"B", "2"}},
         .size = 10,
         .separator = true},
        {.name = "folded",
         .text = "Subject: a\r\n b\r\n\tc\r\n\r\n",
         .fields = {{"Subject", "a b\tc"}},
         .size = 22,
         .separator = true},
        {.name = "junk_line_and_its_continuation_skipped",
         .text = "no colon here\r\n cont\r\nX: y\r\n\r\n",
         .fields = {{"X", "y"}},
         .size = 30,
         .separator = true},
        {.name = "leading_continuation_skipped",
         .text = " orphan\nX: y\n\n",
         .fields = {{"X", "y"}},
         .size = 14,
         .separator = true},
        {.name = "space_before_colon_obsolete",
         .text = "Subject  : hi\n\n",
         .fields = {{"Subject", "hi"}},
         .size = 15,
         .separator = true},
        {.name = "no_separator",
         .text = "A: 1\r\nB: 2",
         .fields = {{"A", "1"}, {"B", "2"}},
         .size = 10,
         .separator = false},
        {.name = "empty_header", .text = "\r\nbody", .fields = {}, .size = 2, .separator = true},
        {.name = "empty", .text = "", .fields = {}, .size = 0, .separator = false},
        {.name = "eight_bit_and_nul",
         .text = std::string("S: caf\xc3\xa9\0x\n\n", 12),
         .fields = {{"S", std::string("caf\xc3\xa9\0x", 7)}},
         .size = 12,
         .separator = true},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        HeaderBlock block = parse_header_block(row.text);
        CHECK_MESSAGE(block.size == row.size, "size: got ", block.size, ", want ", row.size);
        CHECK(block.has_separator == row.separator);
        REQUIRE_MESSAGE(block.fields.size() == row.fields.size(), "fields: got ",
                        block.fields.size(), ", want ", row.fields.size());
        for (std::size_t i = 0; i < row.fields.size(); ++i) {
            CHECK(std::string(block.fields[i].name) == row.fields[i].first);
            CHECK(unfold(block.fields[i].raw_value) == row.fields[i].second);
        }
    }
}

TEST_CASE("RFC 2047 encoded words decode to UTF-8") {
    struct Row {
        std::string in;
        std::string want;
    };
    const Row rows[] = {
        {"=?UTF-8?B?SGVsbG8gV29ybGQ=?=", "Hello World"},
        {"=?iso-8859-1?q?caf=E9?= =?utf-8?q?_ok?=", "caf\xc3\xa9 ok"},  // §6.2 space dropped
        {"a =?us-ascii?Q?b?= c", "a b c"},
        {"=?koi8-r?b?0MHS?=", "=?koi8-r?b?0MHS?="},  // unknown charset: as written
        {"=?utf-8?x?abc?=", "=?utf-8?x?abc?="},      // unknown encoding
        {"=?utf-8?q?a b?=", "=?utf-8?q?a b?="},      // space inside: not a word
        {"=?utf-8?b?!!!?=", "=?utf-8?b?!!!?="},      // bad base64
        {"=?", "=?"},
        {"plain", "plain"},
        {"=?UTF-8?B?SGk?=", "Hi"},  // missing padding tolerated
    };
    for (const Row& row : rows) {
        CAPTURE(row.in);
        std::string got = decode_encoded_words(row.in);
        CHECK_MESSAGE(got == row.want, "got ", got, ", want ", row.want);
    }
}

TEST_CASE("Content-Type and Content-Disposition with RFC 2231 parameters") {
    struct Row {
        std::string in;
        bool ok;
        std::string type, subtype, params;
    };
    const Row rows[] = {
        {"text/plain; charset=UTF-8", true, "text", "plain", "[charset=UTF-8]"},
        {" Text/HTML ; Charset = \"utf-8\" (comment) ; x=\"a\\\"b\"", true, "Text", "HTML",
         "[charset=utf-8][x=a\"b]"},
        {"(c) multipart (nested (c)) / mixed; boundary=\"foo\r\n bar\"", true, "multipart", "mixed",
         "[boundary=foo bar]"},
        {"application/pdf; name*=utf-8''%E2%82%AC.pdf", true, "application", "pdf",
         "[name*=utf-8''%E2%82%AC.pdf]"},
        // Continuations sorted and merged after the plain ones (Dovecot rfc2231_parse).
        {"a/b; n*1=\"y%\"; n*0*=us-ascii'en'x; z=1", true, "a", "b", "[z=1][n*=us-ascii'en'xy%25]"},
        {"a/b; n*0=x; n*1=y", true, "a", "b", "[n=xy]"},
        {"a/b; n*0=x; n*2=z", true, "a", "b", "[n*0=x][n*2=z]"},  // gap: kept apart
        {"a/b; junk; ok=1; =bad; k=v", true, "a", "b", "[ok=1][k=v]"},
        {"text", false, "", "", ""},
        {"/plain", false, "", "", ""},
        {"", false, "", "", ""},
    };
    for (const Row& row : rows) {
        CAPTURE(row.in);
        auto ct = parse_content_type(row.in);
        REQUIRE(ct.has_value() == row.ok);
        if (!ct) continue;
        CHECK(ct->type == row.type);
        CHECK(ct->subtype == row.subtype);
        CHECK_MESSAGE(render(ct->params) == row.params, "got ", render(ct->params), ", want ",
                      row.params);
    }

    auto cd = parse_content_disposition(
        "attachment;\r\n filename*0*=utf-8''%E2%82%AC;\r\n filename*1=\" rates.pdf\"");
    REQUIRE(cd.has_value());
    CHECK(cd->disposition == "attachment");
    CHECK(render(cd->params) == "[filename*=utf-8''%E2%82%AC rates.pdf]");
    CHECK(decoded_parameter(cd->params, "filename") == "\xe2\x82\xac rates.pdf");
    CHECK(decoded_parameter({{"filename*", "iso-8859-1''caf%E9"}}, "filename") == "caf\xc3\xa9");
    CHECK(decoded_parameter({{"filename", "plain.txt"}}, "FILENAME") == "plain.txt");
    CHECK_FALSE(decoded_parameter({}, "filename").has_value());
}

TEST_CASE("Content-Transfer-Encoding and Content-Language") {
    CHECK(parse_transfer_encoding(" base64 ") == "base64");
    CHECK(parse_transfer_encoding("8bit (comment)") == "8bit");
    CHECK_FALSE(parse_transfer_encoding("?invalid").has_value());
    CHECK_FALSE(parse_transfer_encoding("7bit junk").has_value());
    CHECK_FALSE(parse_transfer_encoding("").has_value());
    CHECK(parse_content_language("en, fi, se") == std::vector<std::string>{"en", "fi", "se"});
    CHECK(parse_content_language("en-US (English)") == std::vector<std::string>{"en-US"});
    CHECK(parse_content_language("").empty());
}

TEST_CASE("address lists: names, groups, routes, comments, junk") {
    struct Row {
        std::string in;
        std::string want;
    };
    const Row rows[] = {
        {"alice@example.com", R"((NIL NIL "alice" "example.com"))"},
        {"Alice Smith <alice@example.com>", R"(("Alice Smith" NIL "alice" "example.com"))"},
        {"\"Smith, Alice\" <a@x>, b@y", R"(("Smith, Alice" NIL "a" "x")(NIL NIL "b" "y"))"},
        {"a@x (Real Name)", R"(("Real Name" NIL "a" "x"))"},
        {"Friends: a@x, B <b@y>;, c@z",
         R"((NIL NIL "Friends" NIL)(NIL NIL "a" "x")("B" NIL "b" "y")(NIL NIL NIL NIL)(NIL NIL "c" "z"))"},
        {"undisclosed-recipients:;", R"((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))"},
        {"<@relay.example, @r2:user@host>", R"((NIL "@relay.example,@r2" "user" "host"))"},
        {"<@relay.example user@host>, b@y",
         R"((NIL "INVALID_ROUTE" "MISSING_MAILBOX" "SYNTAX_ERROR")(NIL NIL "b" "y"))"},
        {"john.q.public@example.com", R"((NIL NIL "john.q.public" "example.com"))"},
        {"\"quoted local\"@x", R"((NIL NIL "quoted local" "x"))"},
        {"user", R"((NIL NIL "user" "MISSING_DOMAIN"))"},
        // "<>" is the null path, empty rather than broken (Dovecot 2.3.19).
        {"Name <>", R"(("Name" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
        {"<>", R"((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
        // Words without an address are a display name (as Dovecot 2.3.19
        // reads them): a local part is a single word.
        {"just a name", R"(("just a name" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
        {"just a name, bob@x.org",
         R"(("just a name" NIL "MISSING_MAILBOX" "MISSING_DOMAIN")(NIL NIL "bob" "x.org"))"},
        {"a b@c", R"(("a b" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
        {"a.b c", R"(("a.b c" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
        {"\"quoted name\"", R"(("quoted name" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
        {"\"q\" name", R"(("q name" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
        {"@example.com, b@y", R"((NIL NIL "MISSING_MAILBOX" "example.com")(NIL NIL "b" "y"))"},
        {"bob (comment)", R"(("comment" NIL "bob" "MISSING_DOMAIN"))"},
        {"A <a@x junk>, b@y", R"(("A" NIL "a" "SYNTAX_ERROR")(NIL NIL "b" "y"))"},
        {"a@[192.0.2.1]", R"((NIL NIL "a" "[192.0.2.1]"))"},
        {"=?utf-8?q?J=C3=B6rg?= <j@x>", R"(("=?utf-8?q?J=C3=B6rg?=" NIL "j" "x"))"},
        {",,, a@x ,", R"((NIL NIL "a" "x"))"},
        // Dovecot stops at the junk; we keep the addresses after it.
        {"@@@, b@y", R"((NIL NIL "MISSING_MAILBOX" "MISSING_DOMAIN")(NIL NIL "b" "y"))"},
        {"", ""},
        {"   ", ""},
        {"Unterminated <a@x", R"(("Unterminated" NIL "a" "SYNTAX_ERROR"))"},
        {"\"unterminated quote",
         R"(("unterminated quote" NIL "MISSING_MAILBOX" "MISSING_DOMAIN"))"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.in);
        std::string got = render(parse_address_list(row.in));
        CHECK_MESSAGE(got == row.want, "got ", got, ", want ", row.want);
    }
}

}  // namespace postern::mail
