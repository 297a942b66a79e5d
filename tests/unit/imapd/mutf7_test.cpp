// Modified UTF-7 (RFC 3501 §5.1.3), both directions, and the strictness
// the RFC asks of what clients send.
#include <doctest/doctest.h>

#include "imapd/mutf7.h"

namespace postern::imap {
namespace {

TEST_CASE("mutf7: round trips") {
    struct Row {
        const char* utf8;
        const char* wire;
    } rows[] = {
        {"INBOX", "INBOX"},
        {"a&b", "a&-b"},
        {"&", "&-"},
        {"Entw\xc3\xbcrfe", "Entw&APw-rfe"},
        {"\xe5\x8f\xb0\xe5\x8c\x97", "&U,BTFw-"},  // RFC 3501's example 台北
        {"~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
         "~peter/mail/&U,BTFw-/&ZeVnLIqe-"},
        {"\xf0\x9f\x98\x80", "&2D3eAA-"},  // U+1F600: a surrogate pair
        {"", ""},
    };
    for (const Row& row : rows) {
        CAPTURE(row.utf8);
        auto wire = mutf7_encode(row.utf8);
        REQUIRE(wire.ok());
        CHECK_MESSAGE(*wire == row.wire, "got " << *wire << ", want " << row.wire);
        auto back = mutf7_decode(row.wire);
        REQUIRE(back.ok());
        CHECK_MESSAGE(*back == row.utf8, "got " << *back << ", want " << row.utf8);
    }
}

TEST_CASE("mutf7: refuses what RFC 3501 forbids") {
    const char* bad[] = {
        "&",           // unterminated
        "&AGE-",       // encodes printable ASCII 'a'
        "&APw",        // no '-'
        "&APw-&APw-",  // two adjacent runs
        "&AP/-",       // '/' instead of ','
        "&APx-",       // non-zero pad bits
        "&2D0-",       // lone high surrogate
        "\xc3\xbc",    // raw 8-bit
        "a\tb",        // control
    };
    for (const char* s : bad) {
        CAPTURE(s);
        CHECK_MESSAGE(!mutf7_decode(s).ok(), "got success, want failure");
    }
    CHECK_FALSE(mutf7_encode("\xff").ok());
    CHECK_FALSE(mutf7_encode("\xed\xa0\x80").ok());  // UTF-8 encoded surrogate
}

}  // namespace
}  // namespace postern::imap
