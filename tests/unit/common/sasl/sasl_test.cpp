#include "common/sasl/sasl.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>

// These are whole-message decoders (the line reader frames the response
// first), so there is no trickle variant: a row is one complete response.

namespace postern::sasl {

namespace {

using namespace std::string_literals;

std::string show(const Result<std::string, SaslError>& r) {
    return r ? "ok \"" + *r + "\"" : std::string("error ") + to_string(r.error());
}

// The error name of a Result, or "ok": safe inside doctest *_MESSAGE
// arguments, which are evaluated even when the check passes.
template <typename R>
const char* error_name(const R& r) {
    return r.ok() ? "ok" : to_string(r.error());
}

}  // namespace

TEST_CASE("base64_decode accepts only canonical base64") {
    struct Row {
        std::string_view in;
        std::optional<std::string> want;  // nullopt: BadBase64
    };
    const Row rows[] = {
        {.in = "", .want = ""},
        {.in = "Zg==", .want = "f"},
        {.in = "Zm8=", .want = "fo"},
        {.in = "Zm9v", .want = "foo"},
        {.in = "Zm9vYmFy", .want = "foobar"},
        {.in = "AP8A", .want = "\0\xff\0"s},
        {.in = "+/+/", .want = "\xfb\xff\xbf"},
        {.in = "=", .want = std::nullopt},         // only decode_initial_response takes "="
        {.in = "Zg", .want = std::nullopt},        // unpadded
        {.in = "Zg=", .want = std::nullopt},       // short padding
        {.in = "Zh==", .want = std::nullopt},      // non-zero pad bits (RFC 4648 §3.5)
        {.in = "Zm9=", .want = std::nullopt},      // non-zero pad bits
        {.in = "Zm9v\r\n", .want = std::nullopt},  // no line breaks
        {.in = "Zm 9v", .want = std::nullopt},     // no spaces
        {.in = "Zm9v====", .want = std::nullopt},  // a quantum of padding
        {.in = "Z===", .want = std::nullopt},      // three pad chars
        {.in = "Zg==Zg==", .want = std::nullopt},  // padding in the middle
        {.in = "Zm-_", .want = std::nullopt},      // base64url alphabet
        {.in = "Zm9\x80", .want = std::nullopt},   // 8-bit byte
        {.in = "Zm9v\0"s, .want = std::nullopt},   // NUL
        {.in = "====", .want = std::nullopt},
    };
    for (const Row& row : rows) {
        CAPTURE(row.in);
        const auto got = base64_decode(row.in);
        if (row.want) {
            CHECK_MESSAGE(got.ok(), "got ", show(got), ", want ok");
            if (got) CHECK_MESSAGE(*got == *row.want, "got ", show(got), ", want ", *row.want);
        } else {
            CHECK_MESSAGE(!got.ok(), "got ", show(got), ", want bad-base64");
            if (!got) CHECK(got.error() == SaslError::BadBase64);
        }
    }
}

TEST_CASE("base64_encode round-trips every length and byte") {
    std::string all;
    for (int i = 0; i < 256; ++i)
        all.push_back(static_cast<char>(i));
    for (std::size_t len = 0; len <= all.size(); ++len) {
        const std::string in = all.substr(all.size() - len);
        const std::string enc = base64_encode(in);
        CAPTURE(len);
        CHECK(enc.size() == (len + 2) / 3 * 4);
        const auto dec = base64_decode(enc);
        REQUIRE(dec.ok());
        CHECK(*dec == in);
    }
    CHECK(base64_encode("foob") == "Zm9vYg==");
    CHECK(base64_encode("fooba") == "Zm9vYmE=");
}

TEST_CASE("initial response: '=' is empty, '*' cancels") {
    const auto empty = decode_initial_response("=");
    REQUIRE(empty.ok());
    CHECK(empty->empty());
    CHECK(show(decode_initial_response("Zm9v")) == "ok \"foo\"");
    CHECK(show(decode_initial_response("==")) == "error bad-base64");
    CHECK(is_cancel("*"));
    CHECK_FALSE(is_cancel("**"));
    CHECK_FALSE(is_cancel("="));
}

TEST_CASE("PLAIN decoding (RFC 4616)") {
    struct Row {
        std::string name = {};
        std::string message = {};  // decoded; the test also sends it base64-encoded
        Authzid policy = Authzid::EmptyOrSame;
        std::optional<SaslError> error = {};
        std::string authzid = {};
        std::string authcid = {};
        std::string password = {};
    };
    const std::string long_field(kMaxFieldBytes + 1, 'a');
    const std::string max_field(kMaxFieldBytes, 'a');
    const Row rows[] = {
        {.name = "no authzid",
         .message = "\0tim\0tanstaaftanstaaf"s,
         .authcid = "tim",
         .password = "tanstaaftanstaaf"},
        {.name = "authzid equals authcid",
         .message = "tim\0tim\0pw"s,
         .authzid = "tim",
         .authcid = "tim",
         .password = "pw"},
        {.name = "authzid differs",
         .message = "Ursel\0Kurt\0xipj3plmq"s,
         .error = SaslError::AuthzidNotAllowed},
        {.name = "authzid differs, proxying allowed",
         .message = "Ursel\0Kurt\0xipj3plmq"s,
         .policy = Authzid::AllowAny,
         .authzid = "Ursel",
         .authcid = "Kurt",
         .password = "xipj3plmq"},
        {.name = "utf-8 and spaces kept",
         .message = "\0j\xc3\xb6rg\0pass word "s,
         .authcid = "j\xc3\xb6rg",
         .password = "pass word "},
        {.name = "longest fields",
         .message = "\0"s + max_field + "\0"s + max_field,
         .authcid = max_field,
         .password = max_field},
        {.name = "empty message", .message = "", .error = SaslError::Malformed},
        {.name = "no NUL", .message = "timpassword", .error = SaslError::Malformed},
        {.name = "one NUL", .message = "tim\0password"s, .error = SaslError::Malformed},
        {.name = "extra NUL", .message = "\0tim\0pass\0word"s, .error = SaslError::Malformed},
        {.name = "trailing NUL", .message = "\0tim\0pass\0"s, .error = SaslError::Malformed},
        {.name = "only NULs", .message = "\0\0"s, .error = SaslError::EmptyAuthcid},
        {.name = "empty authcid", .message = "\0\0pw"s, .error = SaslError::EmptyAuthcid},
        {.name = "empty password", .message = "\0tim\0"s, .error = SaslError::EmptyPassword},
        {.name = "long authcid",
         .message = "\0"s + long_field + "\0pw"s,
         .error = SaslError::TooLong},
        {.name = "long password", .message = "\0tim\0"s + long_field, .error = SaslError::TooLong},
        {.name = "long authzid",
         .message = long_field + "\0tim\0pw"s,
         .policy = Authzid::AllowAny,
         .error = SaslError::TooLong},
    };
    for (const Row& row : rows) {
        CAPTURE(row.name);
        for (bool wire : {false, true}) {
            CAPTURE(wire);
            const auto got = wire ? decode_plain_base64(base64_encode(row.message), row.policy)
                                  : decode_plain(row.message, row.policy);
            if (row.error) {
                REQUIRE_MESSAGE(!got.ok(), "got ok, want ", to_string(*row.error));
                CHECK_MESSAGE(got.error() == *row.error, "got ", to_string(got.error()), ", want ",
                              to_string(*row.error));
                continue;
            }
            REQUIRE_MESSAGE(got.ok(), "got ", error_name(got), ", want ok");
            CHECK(got->authzid == row.authzid);
            CHECK(got->authcid == row.authcid);
            CHECK(got->password.reveal() == row.password);
        }
    }
}

TEST_CASE("PLAIN from the wire rejects bad base64 and the empty response") {
    const auto bad = decode_plain_base64("AHRpbQBwdw=");  // short padding
    REQUIRE(!bad.ok());
    CHECK(bad.error() == SaslError::BadBase64);
    const auto empty = decode_plain_base64("=");
    REQUIRE(!empty.ok());
    CHECK(empty.error() == SaslError::Malformed);
    const auto ok = decode_plain_base64("AHRpbQB0YW5zdGFhZnRhbnN0YWFm");  // RFC 4616 §4
    REQUIRE(ok.ok());
    CHECK(ok->authcid == "tim");
    CHECK(ok->password.reveal() == "tanstaaftanstaaf");
}

TEST_CASE("LOGIN user and password responses") {
    CHECK(base64_decode(kLoginUserChallenge).value() == "Username:");
    CHECK(base64_decode(kLoginPasswordChallenge).value() == "Password:");

    struct Row {
        std::string_view in;
        std::optional<SaslError> user_error = {};
        std::optional<SaslError> password_error = {};
        std::string want = {};
    };
    const Row rows[] = {
        {.in = "dGlt", .want = "tim"},
        {.in = "cGFzcyB3b3Jk", .want = "pass word"},
        {.in = "=",
         .user_error = SaslError::EmptyAuthcid,
         .password_error = SaslError::EmptyPassword},
        {.in = "",
         .user_error = SaslError::EmptyAuthcid,
         .password_error = SaslError::EmptyPassword},
        {.in = "dGlt!", .user_error = SaslError::BadBase64, .password_error = SaslError::BadBase64},
        {.in = "dGltAHg=",
         .user_error = SaslError::Malformed,  // "tim\0x"
         .password_error = SaslError::Malformed},
        {.in = "*", .user_error = SaslError::BadBase64, .password_error = SaslError::BadBase64},
    };
    for (const Row& row : rows) {
        CAPTURE(row.in);
        const auto user = decode_login_user(row.in);
        const auto pass = decode_login_password(row.in);
        if (row.user_error) {
            REQUIRE_MESSAGE(!user.ok(), "got ok, want ", to_string(*row.user_error));
            CHECK_MESSAGE(user.error() == *row.user_error, "got ", to_string(user.error()),
                          ", want ", to_string(*row.user_error));
        } else {
            REQUIRE_MESSAGE(user.ok(), "got ", error_name(user), ", want ok");
            CHECK(*user == row.want);
        }
        if (row.password_error) {
            REQUIRE_MESSAGE(!pass.ok(), "got ok, want ", to_string(*row.password_error));
            CHECK_MESSAGE(pass.error() == *row.password_error, "got ", to_string(pass.error()),
                          ", want ", to_string(*row.password_error));
        } else {
            REQUIRE_MESSAGE(pass.ok(), "got ", error_name(pass), ", want ok");
            CHECK(pass->reveal() == row.want);
        }
    }
}

}  // namespace postern::sasl
