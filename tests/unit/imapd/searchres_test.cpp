// SEARCHRES (RFC 5182): the "$" marker, the saved result's bookkeeping,
// RETURN (SAVE) with MIN/MAX, "$" in SEARCH criteria and after expunges;
// the IMAP4rev2 rules for RECENT/NEW/OLD and the SELECT LIST response;
// body charset conversion for SEARCH BODY/TEXT.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "imapd/content_decoding.h"
#include "imapd/list_select.h"
#include "imapd/mailbox_view.h"
#include "imapd/search_keys.h"
#include "imapd/search_result.h"
#include "imapd/search_text.h"
#include "imapd/seqset.h"

namespace postern::imap {
namespace {

std::string show(const std::vector<SeqRange>& ranges) {
    std::string out;
    for (const SeqRange& r : ranges) {
        if (!out.empty()) out += ',';
        out += std::to_string(r.lo);
        if (r.hi != r.lo) out += ':' + std::to_string(r.hi);
    }
    return out;
}

std::string show(const std::vector<std::uint32_t>& numbers) {
    std::string out;
    for (std::uint32_t n : numbers)
        out += (out.empty() ? "" : " ") + std::to_string(n);
    return out;
}

std::vector<Arg> args_of(const std::string& line) {
    CommandParser parser{ImapLimits{}};
    ParseEvent ev = parser.feed_line("a SEARCH " + line);
    REQUIRE(std::holds_alternative<Command>(ev));
    return std::get<Command>(ev).args;
}

std::vector<store::MessageInfo> messages(std::initializer_list<std::uint32_t> uids) {
    std::vector<store::MessageInfo> out;
    for (std::uint32_t u : uids) {
        store::MessageInfo m;
        m.uid = u;
        out.push_back(m);
    }
    return out;
}

TEST_CASE("searchres: the $ marker stands alone") {
    struct Row {
        const char* text;
        bool marker;
        bool parses;  // as an ordinary sequence set
    } rows[] = {
        {"$", true, false},   {"$,1", false, false}, {"1,$", false, false}, {"1:$", false, false},
        {"$$", false, false}, {"1", false, true},    {"", false, false},
    };
    for (const Row& r : rows) {
        CAPTURE(r.text);
        CHECK_MESSAGE(is_saved_marker(r.text) == r.marker,
                      "is_saved_marker got " << !r.marker << ", want " << r.marker);
        CHECK_MESSAGE(SeqSet::parse(r.text, 100).ok() == r.parses,
                      "parse got " << !r.parses << ", want " << r.parses);
    }
}

TEST_CASE("searchres: saved UIDs are kept as merged ranges") {
    struct Row {
        std::vector<std::uint32_t> uids;
        const char* want;
    } rows[] = {
        {{}, ""},
        {{7}, "7"},
        {{1, 2, 3, 5, 9, 10}, "1:3,5,9:10"},
        {{10, 2, 3}, "2:3,10"},  // unsorted input still gives a valid set
        {{4294967295u}, "4294967295"},
        {{4294967294u, 4294967295u}, "4294967294:4294967295"},
    };
    for (const Row& r : rows) {
        SavedResult saved;
        saved.save({99});  // a new SAVE replaces, never adds
        saved.save(r.uids);
        CHECK_MESSAGE(show(saved.uids()) == r.want,
                      "got " << show(saved.uids()) << ", want " << r.want);
        saved.clear();
        CHECK(saved.uids().empty());
    }
}

TEST_CASE("searchres: $ maps saved UIDs to the view, expunged ones drop out") {
    MailboxView view({}, messages({3, 5, 9, 20}), false);
    SavedResult saved;
    saved.save({5, 9, 20});
    CHECK(show(view.select(SeqSet::of(saved.uids()), true)) == "2 3 4");
    // Another session expunged UID 9; once the view has reported it, the
    // same "$" names two messages, renumbered.
    CHECK(view.sync(messages({3, 5, 20}), true) == "* 3 EXPUNGE\r\n");
    std::string got = show(view.select(SeqSet::of(saved.uids()), true));
    CHECK_MESSAGE(got == "2 3", "got " << got << ", want 2 3");
    // Never saved or cleared: nothing, and no error.
    CHECK(view.select(SeqSet::of(SavedResult{}.uids()), true).empty());
}

TEST_CASE("searchres: RETURN (SAVE) options and what is saved") {
    struct Row {
        const char* args;
        bool rev2;
        bool respond;
        const char* saved;  // of found = 2 4 6 8
    } rows[] = {
        {"RETURN (SAVE) ALL", false, false, "2 4 6 8"},
        {"RETURN (SAVE) ALL", true, false, "2 4 6 8"},
        {"RETURN (SAVE ALL) ALL", false, true, "2 4 6 8"},
        {"RETURN (SAVE COUNT) ALL", false, true, "2 4 6 8"},
        {"RETURN (SAVE MIN) ALL", false, true, "2"},
        {"RETURN (MAX SAVE) ALL", false, true, "8"},
        {"RETURN (SAVE MIN MAX) ALL", false, true, "2 8"},
        {"RETURN (SAVE MIN COUNT) ALL", false, true, "2 4 6 8"},
        {"RETURN (save) ALL", false, false, "2 4 6 8"},
    };
    const std::vector<std::uint32_t> found{2, 4, 6, 8};
    for (const Row& r : rows) {
        CAPTURE(r.args);
        std::vector<Arg> args = args_of(r.args);
        std::size_t pos = 0;
        auto ret = parse_search_return(args, pos, r.rev2);
        REQUIRE(ret);
        CHECK(ret->save);
        CHECK(pos == 2);
        CHECK_MESSAGE(ret->respond() == r.respond, "respond got " << ret->respond());
        std::string got = show(saved_subset(*ret, found));
        CHECK_MESSAGE(got == r.saved, "saved got " << got << ", want " << r.saved);
    }
    // MIN and MAX of one message save it once; an empty result saves nothing.
    SearchReturn both;
    both.esearch = both.save = both.min = both.max = true;
    CHECK(show(saved_subset(both, {5})) == "5");
    CHECK(saved_subset(both, {}).empty());
    // Without SAVE nothing changes in the answer.
    std::size_t pos = 0;
    auto args = args_of("RETURN () ALL");
    auto plain = parse_search_return(args, pos, false);
    REQUIRE(plain);
    CHECK_FALSE(plain->save);
    CHECK(plain->respond());
}

TEST_CASE("searchres: $ in SEARCH criteria means the saved UIDs") {
    SearchOptions options;
    SavedResult saved;
    saved.save({42, 43});
    options.saved_uids = saved.uids();
    struct Row {
        const char* criteria;
        std::uint32_t uid;
        std::uint32_t seq;
        bool want;
    } rows[] = {
        {"$", 42, 1, true},
        {"$", 44, 43, false},
        {"UID $", 43, 7, true},
        {"NOT $", 44, 1, true},
        {"$ SMALLER 1000", 42, 1, true},
        {"$ LARGER 1000", 42, 1, false},
        {"OR $ 9", 1, 9, true},
    };
    for (const Row& r : rows) {
        CAPTURE(r.criteria);
        auto key = parse_search(args_of(r.criteria), 0, 100, 100, options);
        REQUIRE(key);
        store::MessageInfo m;
        m.uid = r.uid;
        m.size = 500;
        CHECK(search_matches(*key, r.seq, m, std::string_view("\r\n")) == r.want);
    }
    // Nothing saved: "$" matches nothing.
    auto key = parse_search(args_of("$"), 0, 100, 100);
    REQUIRE(key);
    store::MessageInfo m;
    m.uid = 42;
    CHECK_FALSE(search_matches(*key, 1, m, std::string_view("\r\n")));
    CHECK_FALSE(parse_search(args_of("$,1"), 0, 100, 100, options).has_value());
    CHECK_FALSE(parse_search(args_of("UID $:4"), 0, 100, 100, options).has_value());
}

TEST_CASE("imap4rev2: RECENT, NEW and OLD are IMAP4rev1 only") {
    struct Row {
        const char* criteria;
        bool rev2;
        int want;  // -1 BAD, else 0/1 match
    } rows[] = {
        {"RECENT", false, 0},  {"NEW", false, 0},   {"OLD", false, 1},
        {"RECENT", true, -1},  {"NEW", true, -1},   {"OLD", true, -1},
        {"NOT OLD", true, -1}, {"UNSEEN", true, 1}, {"ALL", true, 1},
    };
    for (const Row& r : rows) {
        CAPTURE(r.criteria);
        CAPTURE(r.rev2);
        SearchOptions options;
        options.rev2 = r.rev2;
        auto key = parse_search(args_of(r.criteria), 0, 10, 10, options);
        if (r.want < 0) {
            CHECK_FALSE(key.has_value());
            continue;
        }
        REQUIRE(key);
        store::MessageInfo m;
        m.uid = 1;
        CHECK(search_matches(*key, 1, m, std::string_view("\r\n")) == (r.want == 1));
    }
}

TEST_CASE("imap4rev2: the LIST response of SELECT, with OLDNAME when the name differs") {
    std::vector<store::MailboxInfo> boxes(4);
    boxes[0].name = "INBOX";
    boxes[1].name = "Sent";
    boxes[1].special_use = "\\Sent";
    boxes[2].name = "Work";
    boxes[3].name = "Work/2024";
    struct Row {
        const char* name;
        const char* given;
        const char* want;
    } rows[] = {
        {"INBOX", "INBOX", "LIST (\\HasNoChildren) \"/\" INBOX"},
        {"INBOX", "inbox", "LIST (\\HasNoChildren) \"/\" INBOX (\"OLDNAME\" (\"inbox\"))"},
        {"Sent", "Sent Items",
         "LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\" (\"OLDNAME\" (\"Sent Items\"))"},
        {"Sent", "Sent", "LIST (\\HasNoChildren \\Sent) \"/\" \"Sent\""},
        {"Work", "Work", "LIST (\\HasChildren) \"/\" \"Work\""},
        {"Work/2024", "Work/2024", "LIST (\\HasNoChildren) \"/\" \"Work/2024\""},
    };
    for (const Row& r : rows) {
        std::string got =
            selected_list_response(mailbox_entry(r.name, boxes), r.given, NameEncoding::Utf8);
        CHECK_MESSAGE(got == r.want, "got " << got << ", want " << r.want);
    }
}

TEST_CASE("charset: conversion to UTF-8 for SEARCH") {
    struct Row {
        const char* charset;
        std::string bytes;
        std::optional<std::string> want;
    } rows[] = {
        {"ISO-8859-1", "voil\xe0", "voil\xc3\xa0"},
        {"iso-8859-1", "\xc4pfel", "\xc3\x84pfel"},
        {"windows-1252", "\x80 5", "\xe2\x82\xac 5"},
        {"KOI8-R", "\xd0\xd2\xc9\xd7\xc5\xd4", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82"},
        {"UTF-8", "caf\xc3\xa9", "caf\xc3\xa9"},
        {"us-ascii", "plain", "plain"},
        {"x-no-such-charset", "abc", std::nullopt},
        {"ISO-8859-1; rm -rf", "abc", std::nullopt},  // not a charset name
        {"", "abc", std::nullopt},
    };
    for (const Row& r : rows) {
        CAPTURE(r.charset);
        auto got = charset_to_utf8(r.charset, r.bytes);
        CHECK_MESSAGE(got == r.want, "got " << (got ? *got : "nullopt"));
    }
    // Invalid in the charset: U+FFFD, and the rest is still converted.
    auto invalid = charset_to_utf8("Shift_JIS",
                                   "a\xff"
                                   "b");
    REQUIRE(invalid);
    CHECK_MESSAGE(*invalid ==
                      "a\xef\xbf\xbd"
                      "b",
                  "got " << *invalid);
    // A stateful charset: the escape sequences are understood.
    auto shift = charset_to_utf8("ISO-2022-JP", "\x1b$B$3\x1b(B!");
    REQUIRE(shift);
    CHECK(*shift == "\xe3\x81\x93!");
}

// The folded body texts of a message, joined with "|".
std::string bodies(const std::string& message) {
    SearchMessage m(message);
    std::string out;
    for (const std::string& b : m.bodies())
        out += (out.empty() ? "" : "|") + b;
    return out;
}

TEST_CASE("search text: body parts are converted from their charset") {
    const std::string multipart =
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
        "\r\n"
        "--b\r\n"
        "Content-Type: text/plain; charset=\"ISO-8859-1\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Voil=E0 le caf=E9\r\n"
        "--b\r\n"
        "Content-Type: text/plain; charset=koi8-r\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "\xf0\xd2\xc9\xd7\xc5\xd4\r\n"
        "--b\r\n"
        "Content-Type: text/plain; charset=x-unknown\r\n"
        "\r\n"
        "raw \xe9\r\n"
        "--b\r\n"
        "Content-Type: application/octet-stream; charset=ISO-8859-1\r\n"
        "\r\n"
        "bin \xe9\r\n"
        "--b--\r\n";
    SearchMessage m(multipart);
    const auto& texts = m.bodies();
    REQUIRE(texts.size() == 4);
    // (The CRLF before a boundary belongs to the boundary.)
    CHECK(texts[0] == "voil\xc3\xa0 le caf\xc3\xa9");
    CHECK(texts[1] == "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");  // "привет"
    CHECK(texts[2] == "raw \xe9");  // unknown charset: the bytes as they are
    CHECK(texts[3] == "bin \xe9");  // not text: not converted
    // A single-part message takes the charset from the message header.
    std::string single =
        "Content-Type: text/plain; charset=windows-1252\r\n\r\n\x93Quoted\x94 \x80\r\n";
    std::string got = bodies(single);
    CHECK_MESSAGE(got == "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x82\xac\r\n", "got " << got);
}

}  // namespace
}  // namespace postern::imap
