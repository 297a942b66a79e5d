// ESEARCH (RFC 4731): RETURN options and both response forms; the text
// SEARCH matches (decoding, case folding) and Content-Transfer-Encoding.
#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "imapd/content_decoding.h"
#include "imapd/search_keys.h"
#include "imapd/search_result.h"
#include "imapd/search_text.h"

namespace postern::imap {
namespace {

std::vector<Arg> args_of(const std::string& line) {
    CommandParser parser{ImapLimits{}};
    ParseEvent ev = parser.feed_line("a SEARCH " + line);
    REQUIRE(std::holds_alternative<Command>(ev));
    return std::get<Command>(ev).args;
}

TEST_CASE("esearch: RETURN options") {
    struct Row {
        const char* args;
        bool rev2;
        const char* want;  // "esearch min max count all pos", or nullptr for BAD
    } rows[] = {
        {"ALL", false, "0 0 0 0 0 0"},
        {"ALL", true, "1 0 0 0 1 0"},
        {"RETURN () ALL", false, "1 0 0 0 1 2"},
        {"RETURN (MIN MAX) ALL", false, "1 1 1 0 0 2"},
        {"RETURN (COUNT) CHARSET UTF-8 ALL", true, "1 0 0 1 0 2"},
        {"RETURN (min ALL count) ALL", false, "1 1 0 1 1 2"},
        {"RETURN (SAVE) ALL", false, "1 0 0 0 0 2"},  // SEARCHRES: no ESEARCH
        {"RETURN (BOGUS) ALL", false, nullptr},
    };
    for (const Row& r : rows) {
        CAPTURE(r.args);
        std::vector<Arg> args = args_of(r.args);
        std::size_t pos = 0;
        auto ret = parse_search_return(args, pos, r.rev2);
        if (r.want == nullptr) {
            CHECK_FALSE(ret.has_value());
            continue;
        }
        REQUIRE(ret);
        std::string got = std::to_string(ret->esearch) + " " + std::to_string(ret->min) + " " +
                          std::to_string(ret->max) + " " + std::to_string(ret->count) + " " +
                          std::to_string(ret->all) + " " + std::to_string(pos);
        CHECK(got == r.want);
    }
}

TEST_CASE("esearch: responses") {
    SearchReturn plain;
    CHECK(search_response(plain, "a", false, {1, 2, 5}) == "SEARCH 1 2 5");
    CHECK(search_response(plain, "a", true, {}) == "SEARCH");
    SearchReturn all{true, false, false, false, true};
    CHECK(search_response(all, "a1", true, {1, 2, 3, 5, 7, 8}) ==
          "ESEARCH (TAG \"a1\") UID ALL 1:3,5,7:8");
    SearchReturn every{true, true, true, true, true};
    CHECK(search_response(every, "t", false, {4, 9, 10}) ==
          "ESEARCH (TAG \"t\") MIN 4 MAX 10 COUNT 3 ALL 4,9:10");
    // Nothing found: only COUNT says so (RFC 4731 §3.1).
    CHECK(search_response(every, "t", false, {}) == "ESEARCH (TAG \"t\") COUNT 0");
    CHECK(search_response(all, "t", false, {}) == "ESEARCH (TAG \"t\")");
    CHECK(sequence_set_text({}) == "");
    CHECK(sequence_set_text({7}) == "7");
}

TEST_CASE("content decoding: base64 and quoted-printable") {
    struct Row {
        const char* encoding;
        std::string in;
        std::string want;
    } rows[] = {
        {"base64", "SGVsbG8sIHdvcmxkIQ==", "Hello, world!"},
        {"BASE64", "SGVs\r\nbG8=\r\n", "Hello"},
        {"base64", "SGVsbA", "Hell"},     // missing padding
        {"base64", "S*G!V@sbA", "Hell"},  // junk skipped
        {"quoted-printable", "caf=C3=A9 =\r\nbar  \r\nx=3Dy\r\n", "caf\xc3\xa9 bar\r\nx=y\r\n"},
        {"quoted-printable", "a=zzb=4", "a=zzb=4"},  // malformed kept
        {"quoted-printable", "soft=\nbreak", "softbreak"},
        {"7bit", "as is=41", "as is=41"},
        {"8bit", "x", "x"},
        {"binary", std::string("\0\1", 2), std::string("\0\1", 2)},
    };
    for (const Row& r : rows) {
        CAPTURE(r.in);
        auto got = decode_content(r.in, r.encoding);
        REQUIRE(got);
        CHECK(*got == r.want);
    }
    CHECK_FALSE(decode_content("x", "x-uuencode").has_value());
}

TEST_CASE("search text: case folding") {
    CHECK(fold_case("HeLLo") == "hello");
    CHECK(fold_case("ÄÖÜ ÀÉ") == "äöü àé");
    CHECK(fold_case("ŁÓDŹ") == "łódź");
    CHECK(fold_case("ΣΟΦΊΑ ς") == "σοφία σ");
    CHECK(fold_case("ПРИВЕТ Ёж") == "привет ёж");
    CHECK(fold_case("\xff\xc3") == "\xff\xc3");  // invalid UTF-8 kept
    CHECK(folded_contains(fold_case("Grüße aus MÜNCHEN"), fold_case("münchen")));
    CHECK_FALSE(folded_contains("abc", "abd"));
}

const std::string kMime =
    "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.test>\r\n"
    "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= aus\r\n =?UTF-8?B?TcO8bmNoZW4=?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=B\r\n"
    "\r\n"
    "--B\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Der Kaffee ist hei=C3=9F und s=\r\nchwarz.\r\n"
    "--B\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "w4RwZmVsIHVuZCBCaXJuZW4=\r\n"
    "--B--\r\n";

bool matches(const std::string& criteria) {
    auto key = parse_search(args_of(criteria), 0, 1, 1);
    REQUIRE(key);
    store::MessageInfo m;
    m.uid = 1;
    return search_matches(*key, 1, m, kMime);
}

TEST_CASE("search: decoded headers and bodies") {
    struct Row {
        const char* criteria;
        bool want;
    } rows[] = {
        {"FROM \"jürgen\"", true},
        {"FROM \"JÜRGEN\"", true},
        {"FROM \"=?UTF-8?Q\"", false},  // the encoded form is not the text
        {"SUBJECT \"grüße aus münchen\"", true},
        {"HEADER Subject \"GRÜSSE\"", false},
        {"HEADER X-None \"\"", false},
        {"HEADER MIME-Version \"\"", true},
        {"BODY \"kaffee ist heiß und schwarz\"", true},  // QP soft break removed
        {"BODY \"ÄPFEL UND\"", true},                    // base64 part
        {"BODY \"w4RwZmVs\"", false},
        {"BODY \"jürgen\"", false},  // header only
        {"TEXT \"jürgen\"", true},
        {"TEXT \"birnen\"", true},
        {"TEXT \"multipart/mixed\"", true},
    };
    for (const Row& r : rows) {
        CAPTURE(r.criteria);
        CHECK(matches(r.criteria) == r.want);
    }
}

}  // namespace
}  // namespace postern::imap
