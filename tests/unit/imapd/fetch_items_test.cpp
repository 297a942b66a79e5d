// FETCH items: parsing (the attack is a malformed section) and rendering of
// sections from a summary, including bare-LF files and partial ranges.
#include <doctest/doctest.h>

#include "imapd/fetch_items.h"

namespace postern::imap {
namespace {

Arg atom(std::string text) {
    return Arg{Arg::Kind::Atom, std::move(text), {}};
}

TEST_CASE("fetch items: parse") {
    struct Row {
        const char* item;
        bool ok;
        const char* label;  // for sections
    } rows[] = {
        {"FLAGS", true, ""},
        {"body.peek[]", true, "BODY[]"},
        {"BODY[HEADER]", true, "BODY[HEADER]"},
        {"BODY[1.2.MIME]", true, "BODY[1.2.MIME]"},
        {"BODY[1.TEXT]", true, "BODY[1.TEXT]"},
        {"BODY[2]", true, "BODY[2]"},
        {"BODY[header.fields (from \"to\")]", true, "BODY[HEADER.FIELDS (FROM TO)]"},
        {"BODY[HEADER.FIELDS.NOT (X)]<5.10>", true, "BODY[HEADER.FIELDS.NOT (X)]"},
        {"BODY[MIME]", false, ""},
        {"BODY[0]", false, ""},
        {"BODY[1.]", false, ""},
        {"BODY[1..2]", false, ""},
        {"BODY[HEADER.FIELDS ()]", false, ""},
        {"BODY[HEADER.FIELDS]", false, ""},
        {"BODY[]<1>", false, ""},
        {"BODY[]<1.0>", false, ""},
        {"BODY[TEXTX]", false, ""},
        {"RFC822.SIZEX", false, ""},
        // BINARY (RFC 3516): part numbers only.
        {"BINARY[]", true, "BINARY[]"},
        {"binary.peek[1.2]<0.5>", true, "BINARY[1.2]"},
        {"BINARY.SIZE[3]", true, "BINARY.SIZE[3]"},
        {"BINARY.SIZE[3]<0.5>", false, ""},
        {"BINARY[1.HEADER]", false, ""},
        {"BINARY[TEXT]", false, ""},
        {"BINARY[0]", false, ""},
        {"BINARY[1]<1>", false, ""},
        {"BINARYX[1]", false, ""},
    };
    for (const Row& row : rows) {
        CAPTURE(row.item);
        auto req = parse_fetch_items(atom(row.item), false);
        CHECK_MESSAGE(req.has_value() == row.ok,
                      "got ok=" << req.has_value() << ", want " << row.ok);
        if (req && std::string(row.label).size() > 0) {
            REQUIRE(req->items.size() == 1);
            CHECK_MESSAGE(req->items[0].section.label == row.label,
                          "got " << req->items[0].section.label << ", want " << row.label);
        }
    }
}

TEST_CASE("fetch items: macros, UID added for UID FETCH, \\Seen only without PEEK") {
    auto all = parse_fetch_items(atom("ALL"), true);
    REQUIRE(all);
    CHECK(all->items.size() == 5);  // UID FLAGS INTERNALDATE RFC822.SIZE ENVELOPE
    CHECK(all->items[0].kind == FetchItem::Kind::Uid);
    CHECK_FALSE(all->sets_seen);
    CHECK(parse_fetch_items(atom("BODY[]"), false)->sets_seen);
    CHECK_FALSE(parse_fetch_items(atom("BODY.PEEK[]"), false)->sets_seen);
    CHECK(parse_fetch_items(atom("RFC822"), false)->sets_seen);
    CHECK_FALSE(parse_fetch_items(atom("RFC822.HEADER"), false)->sets_seen);
    CHECK_FALSE(parse_fetch_items(Arg{Arg::Kind::List, "", {}}, false).has_value());
}

const std::string kMultipart =
    "From: a@example.test\n"
    "Subject: hi\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=b\n"
    "\n"
    "--b\n"
    "Content-Type: text/plain\n"
    "\n"
    "one\n"
    "--b\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: inner\n"
    "\n"
    "two\n"
    "--b--\n";

std::string section(const std::string& spec, const std::string& message) {
    auto req = parse_fetch_items(atom("BODY.PEEK[" + spec + "]"), false);
    REQUIRE(req);
    auto summary = mail::summarize(message);
    auto bytes = section_bytes(req->items[0].section, summary, message);
    return bytes ? *bytes : std::string("<nil>");
}

TEST_CASE("fetch items: only top-level header items let the file be read up to its header") {
    struct Row {
        std::vector<const char*> items;
        bool header_only;
    };
    const Row rows[] = {
        {{"BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]", "FLAGS"}, true},
        {{"BODY.PEEK[HEADER]", "ENVELOPE"}, true},
        {{"BODY[HEADER.FIELDS.NOT (X-A)]"}, true},
        {{"RFC822.HEADER"}, true},
        {{"BODY.PEEK[HEADER]<0.100>"}, true},
        {{"BODY.PEEK[HEADER]", "BODY.PEEK[TEXT]"}, false},
        {{"BODY.PEEK[1.HEADER]"}, false},
        {{"BODY.PEEK[]"}, false},
        {{"RFC822"}, false},
        {{"BINARY.PEEK[1]"}, false},
        {{"BODY.PEEK[1.MIME]"}, false},
    };
    for (const Row& row : rows) {
        Arg list{Arg::Kind::List, "", {}};
        std::string shown;
        for (const char* item : row.items) {
            list.list.push_back(atom(item));
            shown += std::string(item) + " ";
        }
        CAPTURE(shown);
        auto req = parse_fetch_items(list, false);
        REQUIRE(req);
        CHECK(req->needs_file);
        CHECK_MESSAGE(req->header_only == row.header_only, "got ", req->header_only);
    }
}

TEST_CASE("fetch items: sections of a bare-LF multipart are served with CRLF") {
    struct Row {
        const char* spec;
        const char* want;
    } rows[] = {
        {"HEADER.FIELDS (SUBJECT)", "Subject: hi\r\n\r\n"},
        {"HEADER.FIELDS.NOT (FROM MIME-VERSION CONTENT-TYPE)", "Subject: hi\r\n\r\n"},
        {"1", "one"},
        {"1.MIME", "Content-Type: text/plain\r\n\r\n"},
        {"2.HEADER", "Subject: inner\r\n\r\n"},
        {"2.TEXT", "two"},
        {"2.HEADER.FIELDS (SUBJECT)", "Subject: inner\r\n\r\n"},
        {"1.TEXT", "<nil>"},  // not a message/rfc822 part
        {"9", "<nil>"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.spec);
        std::string got = section(row.spec, kMultipart);
        CHECK_MESSAGE(got == row.want, "got [" << got << "], want [" << row.want << "]");
    }
    std::string whole = section("", kMultipart);
    CHECK(whole.find("\r\n") != std::string::npos);
    CHECK(whole.find("\n\n") == std::string::npos);
}

TEST_CASE("fetch items: partial ranges count the CRLF form") {
    std::string msg = "Subject: x\n\nabcdef\n";
    auto req = parse_fetch_items(atom("BODY.PEEK[]<11.3>"), false);
    REQUIRE(req);
    auto summary = mail::summarize(msg);
    auto got = section_bytes(req->items[0].section, summary, msg);
    REQUIRE(got);
    // "Subject: x\r\n" is 12 bytes: offset 11 is its LF.
    CHECK_MESSAGE(*got == "\n\r\n", "got [" << *got << "]");
    auto past = parse_fetch_items(atom("BODY.PEEK[]<1000.3>"), false);
    CHECK(section_bytes(past->items[0].section, summary, msg) == std::string());
}

TEST_CASE("fetch items: render echoes partial origin and literal sizes") {
    std::string msg = "Subject: x\r\n\r\nbody\r\n";
    auto summary = mail::summarize(msg);
    store::MessageInfo m;
    m.uid = 7;
    m.flags = store::kFlagSeen;
    auto req = parse_fetch_items(
        Arg{Arg::Kind::List, "", {atom("FLAGS"), atom("BODY[TEXT]<1.2>"), atom("RFC822.SIZE")}},
        true);
    REQUIRE(req);
    std::string got = render_fetch(3, m, *req, &summary, msg, false);
    std::string want =
        "* 3 FETCH (UID 7 FLAGS (\\Seen) BODY[TEXT]<1> {2}\r\nod RFC822.SIZE 20)\r\n";
    CHECK_MESSAGE(got == want, "got " << got << "want " << want);
}

const std::string kBinaryMessage =
    "Subject: parts\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=B\r\n"
    "\r\n"
    "--B\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAEC/w==\r\n"
    "--B\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=C3=A9 =\r\nau lait\r\n"
    "--B\r\n"
    "Content-Transfer-Encoding: x-uuencode\r\n"
    "\r\n"
    "begin 644 x\r\n"
    "--B\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "plain\nlines\r\n"
    "--B--\r\n";

std::string fetch(const char* items, bool* unknown = nullptr) {
    Arg list{Arg::Kind::List, "", {}};
    list.list.push_back(atom(items));
    auto req = parse_fetch_items(list, false);
    REQUIRE(req);
    mail::MessageSummary sum = mail::summarize(kBinaryMessage);
    store::MessageInfo m;
    m.uid = 7;
    return render_fetch(1, m, *req, &sum, kBinaryMessage, false, unknown);
}

TEST_CASE("fetch items: BINARY decodes the transfer encoding") {
    struct Row {
        const char* item;
        std::string want;
    } rows[] = {
        // A NUL in the content needs literal8.
        {"BINARY[1]", std::string("* 1 FETCH (BINARY[1] ~{4}\r\n\0\1\2\xff)\r\n", 34)},
        {"BINARY.SIZE[1]", "* 1 FETCH (BINARY.SIZE[1] 4)\r\n"},
        {"BINARY.PEEK[2]", "* 1 FETCH (BINARY[2] {13}\r\ncaf\xc3\xa9 au lait)\r\n"},
        {"BINARY[2]<4.3>", "* 1 FETCH (BINARY[2]<4> {3}\r\n\xa9 a)\r\n"},
        {"BINARY[4]", "* 1 FETCH (BINARY[4] {12}\r\nplain\r\nlines)\r\n"},
        {"BINARY[9]", "* 1 FETCH (BINARY[9] NIL)\r\n"},
    };
    for (const Row& r : rows) {
        CAPTURE(r.item);
        bool unknown = false;
        std::string got = fetch(r.item, &unknown);
        CHECK_MESSAGE(got == r.want, "got " << got << ", want " << r.want);
        CHECK_FALSE(unknown);
    }
    bool unknown = false;
    CHECK(fetch("BINARY[3]", &unknown) == "* 1 FETCH (BINARY[3] NIL)\r\n");
    CHECK(unknown);
    CHECK(parse_fetch_items(atom("BINARY[1]"), false)->sets_seen);
    CHECK_FALSE(parse_fetch_items(atom("BINARY.PEEK[1]"), false)->sets_seen);
    CHECK_FALSE(parse_fetch_items(atom("BINARY.SIZE[1]"), false)->sets_seen);
}

}  // namespace
}  // namespace postern::imap
