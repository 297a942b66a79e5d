#include "common/smtp/smtp_params.h"

#include <doctest/doctest.h>

#include <limits>
#include <ostream>
#include <string>

namespace postern::smtp {
namespace {

struct MailRow {
    std::string input;
    int code = 0;  // 0: must parse
    std::string enhanced = {};
    std::optional<std::uint64_t> size = {};
    Body body = Body::Unspecified;
    bool smtputf8 = false;
    Ret ret = Ret::Unspecified;
    std::optional<std::string> envid = {};
    std::optional<std::string> auth = {};
};

std::ostream& operator<<(std::ostream& os, const MailRow& row) {
    return os << "input=\"" << row.input << "\"";
}

constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();

const MailRow kMailRows[] = {
    {.input = ""},
    {.input = "SIZE=0", .size = 0},
    {.input = "SIZE=1048576", .size = 1048576},
    {.input = "size=12", .size = 12},
    {.input = "SIZE=18446744073709551615", .size = kMax},
    {.input = "SIZE=99999999999999999999", .size = kMax},  // 20 digits saturate
    {.input = "SIZE=999999999999999999999", .code = 501, .enhanced = "5.5.4"},  // 21 digits
    {.input = "SIZE=", .code = 501},
    {.input = "SIZE", .code = 501},
    {.input = "SIZE=-1", .code = 501},
    {.input = "SIZE=1k", .code = 501},
    {.input = "BODY=7BIT", .body = Body::SevenBit},
    {.input = "BODY=8bitmime", .body = Body::EightBitMime},
    {.input = "BODY=BINARYMIME", .body = Body::BinaryMime},
    {.input = "BODY=8BIT", .code = 501},
    {.input = "SMTPUTF8", .smtputf8 = true},
    {.input = "smtputf8", .smtputf8 = true},
    {.input = "SMTPUTF8=yes", .code = 501},
    {.input = "RET=FULL", .ret = Ret::Full},
    {.input = "RET=hdrs", .ret = Ret::Hdrs},
    {.input = "RET=BODY", .code = 501},
    {.input = "ENVID=QQ314159", .envid = "QQ314159"},
    {.input = "ENVID=a+2Bb+3Dc", .envid = "a+b=c"},
    {.input = "ENVID=a+2bb", .code = 501},  // hex must be upper case (RFC 3461 §4)
    {.input = "ENVID=a+2", .code = 501},
    {.input = "ENVID=" + std::string(100, 'e'), .envid = std::string(100, 'e')},
    {.input = "ENVID=" + std::string(101, 'e'), .code = 501},
    {.input = "AUTH=<>", .auth = "<>"},
    {.input = "AUTH=e+3Dmc2@example.com", .auth = "e=mc2@example.com"},
    {.input = "SIZE=10 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x AUTH=<>",
     .size = 10,
     .body = Body::EightBitMime,
     .smtputf8 = true,
     .ret = Ret::Hdrs,
     .envid = "x",
     .auth = "<>"},
    // Duplicates, unknown, misplaced and malformed parameters.
    {.input = "SIZE=1 SIZE=2", .code = 501, .enhanced = "5.5.4"},
    {.input = "SIZE=1 size=1", .code = 501, .enhanced = "5.5.4"},
    {.input = "SMTPUTF8 SMTPUTF8", .code = 501},
    {.input = "XFOO=bar", .code = 555, .enhanced = "5.5.4"},
    {.input = "XFOO", .code = 555, .enhanced = "5.5.4"},
    {.input = "NOTIFY=NEVER", .code = 555, .enhanced = "5.5.4"},  // RCPT only
    {.input = "SIZE=1  BODY=7BIT", .code = 501},
    {.input = " SIZE=1", .code = 501},
    {.input = "SIZE=1 ", .code = 501},
    {.input = "-X=1", .code = 501},
    {.input = "X_Y=1", .code = 501},
    {.input = "ENVID=a=b", .code = 501},
    {.input = "ENVID=a\x7f", .code = 501},
};

TEST_CASE("parse_mail_params table") {
    for (const MailRow& row : kMailRows) {
        CAPTURE(row);
        auto got = parse_mail_params(row.input);
        if (row.code != 0) {
            REQUIRE_MESSAGE(!got.ok(), "got success, want ", row.code);
            CHECK_MESSAGE(got.error().code == row.code, "got ", got.error().code, ", want ",
                          row.code);
            if (!row.enhanced.empty()) CHECK(got.error().enhanced == row.enhanced);
            continue;
        }
        REQUIRE_MESSAGE(got.ok(), "got ", got.ok() ? 0 : got.error().code, ", want success");
        CHECK(got->size == row.size);
        CHECK(got->body == row.body);
        CHECK(got->smtputf8 == row.smtputf8);
        CHECK(got->ret == row.ret);
        CHECK(got->envid == row.envid);
        CHECK(got->auth == row.auth);
    }
}

struct RcptRow {
    std::string input;
    int code = 0;
    std::uint8_t notify = 0;
    std::string orcpt_type = {};  // empty: no ORCPT
    std::string orcpt_address = {};
};

std::ostream& operator<<(std::ostream& os, const RcptRow& row) {
    return os << "input=\"" << row.input << "\"";
}

const RcptRow kRcptRows[] = {
    {.input = ""},
    {.input = "NOTIFY=NEVER", .notify = kNotifyNever},
    {.input = "NOTIFY=SUCCESS", .notify = kNotifySuccess},
    {.input = "notify=success,failure,DELAY",
     .notify = kNotifySuccess | kNotifyFailure | kNotifyDelay},
    {.input = "NOTIFY=FAILURE,DELAY", .notify = kNotifyFailure | kNotifyDelay},
    {.input = "NOTIFY=NEVER,SUCCESS", .code = 501},
    {.input = "NOTIFY=SUCCESS,SUCCESS", .code = 501},
    {.input = "NOTIFY=SUCCESS,", .code = 501},
    {.input = "NOTIFY=", .code = 501},
    {.input = "NOTIFY", .code = 501},
    {.input = "ORCPT=rfc822;bob@example.org",
     .orcpt_type = "rfc822",
     .orcpt_address = "bob@example.org"},
    {.input = "ORCPT=rfc822;a+2Bb@x+20y", .orcpt_type = "rfc822", .orcpt_address = "a+b@x y"},
    {.input = "ORCPT=utf-8;caf+C3+A9@x", .orcpt_type = "utf-8", .orcpt_address = "caf\xc3\xa9@x"},
    {.input = "ORCPT=rfc822;", .code = 501},
    {.input = "ORCPT=;a@b", .code = 501},
    {.input = "ORCPT=rfc822", .code = 501},
    {.input = "ORCPT=rfc822;a+zz@b", .code = 501},
    {.input = "ORCPT=rfc822;" + std::string(487, 'a'),
     .orcpt_type = "rfc822",
     .orcpt_address = std::string(487, 'a')},  // exactly 500 characters
    {.input = "ORCPT=rfc822;" + std::string(488, 'a'), .code = 501},
    {.input = "NOTIFY=DELAY ORCPT=rfc822;a@b",
     .notify = kNotifyDelay,
     .orcpt_type = "rfc822",
     .orcpt_address = "a@b"},
    {.input = "NOTIFY=DELAY NOTIFY=DELAY", .code = 501},
    {.input = "SIZE=10", .code = 555},  // MAIL only
    {.input = "XRCPT=1", .code = 555},
};

TEST_CASE("parse_rcpt_params table") {
    for (const RcptRow& row : kRcptRows) {
        CAPTURE(row);
        auto got = parse_rcpt_params(row.input);
        if (row.code != 0) {
            REQUIRE_MESSAGE(!got.ok(), "got success, want ", row.code);
            CHECK_MESSAGE(got.error().code == row.code, "got ", got.error().code, ", want ",
                          row.code);
            continue;
        }
        REQUIRE_MESSAGE(got.ok(), "got ", got.ok() ? 0 : got.error().code, ", want success");
        CHECK_MESSAGE(got->notify == row.notify, "got notify ", int{got->notify}, ", want ",
                      int{row.notify});
        REQUIRE(got->orcpt.has_value() == !row.orcpt_type.empty());
        if (got->orcpt) {
            CHECK(got->orcpt->addr_type == row.orcpt_type);
            CHECK(got->orcpt->address == row.orcpt_address);
        }
    }
}

TEST_CASE("xtext encode/decode round-trip (RFC 3461 §4)") {
    const std::string samples[] = {"", "plain", "a+b=c", "sp ace", "\x01\xff\x7f", "~!"};
    for (const std::string& s : samples) {
        CAPTURE(s);
        const std::string enc = xtext_encode(s);
        for (const char c : enc)
            CHECK((c >= '!' && c <= '~' && c != '='));
        const auto dec = xtext_decode(enc);
        REQUIRE(dec.has_value());
        CHECK_MESSAGE(*dec == s, "got '", *dec, "', want '", s, "'");
    }
    CHECK(xtext_encode("a+b=c d") == "a+2Bb+3Dc+20d");
    CHECK_FALSE(xtext_decode("a b").has_value());
    CHECK_FALSE(xtext_decode("+").has_value());
    CHECK_FALSE(xtext_decode("+4").has_value());
    CHECK_FALSE(xtext_decode("=").has_value());
}

}  // namespace
}  // namespace postern::smtp
