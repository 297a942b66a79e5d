#include "common/base/ascii.h"

#include <doctest/doctest.h>

namespace postern {

TEST_CASE("iequals compares ASCII case-insensitively") {
    CHECK(iequals("EHLO", "ehlo"));
    CHECK(iequals("", ""));
    CHECK_FALSE(iequals("EHLO", "EHL"));
    CHECK_FALSE(iequals("\xc3\x84", "\xc3\xa4"));  // no locale folding
    CHECK(istarts_with("MAIL FROM:<a@b>", "mail from:"));
    CHECK_FALSE(istarts_with("MAIL", "MAIL FROM"));
}

TEST_CASE("trim removes surrounding whitespace only") {
    CHECK(trim("  a b \r\n") == "a b");
    CHECK(trim("") == "");
    CHECK(trim(" \t") == "");
}

TEST_CASE("printable escapes control bytes and caps length") {
    using namespace std::string_literals;
    CHECK(printable("a\r\n\0z"s, 200) == "a\\x0d\\x0a\\x00z");
    CHECK(printable(std::string(300, 'x'), 10) == std::string(10, 'x') + "...");
    CHECK(printable("back\\slash") == "back\\x5cslash");
}

}  // namespace postern
