// SASL decoding shared by SMTP AUTH (RFC 4954), IMAP AUTHENTICATE (RFC 9051
// §6.2.2) and POP3 AUTH (RFC 5034): strict base64, PLAIN (RFC 4616) and
// LOGIN (draft-murchison-sasl-login).
//
// Pure functions, no I/O and no state: the session sends the challenges and
// feeds each client response here. Passwords come back as Secret<> so they
// cannot reach a log. Whether the credentials are right is not decided here.
#pragma once

#include <string>
#include <string_view>

#include "common/base/result.h"
#include "common/log/secret.h"

namespace postern::sasl {

enum class SaslError {
    BadBase64,          // not canonical base64 (RFC 4648 §3.3, §3.5)
    Malformed,          // PLAIN without exactly two NULs; NUL inside a LOGIN field
    EmptyAuthcid,       // RFC 4616 §2: authcid is 1*SAFE
    EmptyPassword,      // RFC 4616 §2: passwd is 1*SAFE
    TooLong,            // a field over kMaxFieldBytes
    AuthzidNotAllowed,  // authzid set and different from authcid (no proxy auth)
};

// For logs and tests: "bad-base64", "malformed", ...
const char* to_string(SaslError error);

// RFC 4616 §2 requires accepting fields of at least 255 octets; beyond this
// a client is not sending a real user name or password.
inline constexpr std::size_t kMaxFieldBytes = 1024;

// Strict base64: the standard alphabet only, padded to a multiple of 4, no
// whitespace, zero pad bits. "" decodes to "".
Result<std::string, SaslError> base64_decode(std::string_view text);
std::string base64_encode(std::string_view bytes);

// An initial response on the command line (SMTP AUTH, IMAP SASL-IR, POP3
// AUTH): "=" stands for an empty response (RFC 4954 §4), anything else is
// base64. A missing initial response is the caller's business.
Result<std::string, SaslError> decode_initial_response(std::string_view text);

// RFC 4954 §4 / RFC 9051 §6.2.2 / RFC 5034 §4: a client response of "*"
// cancels the exchange (SMTP 501, IMAP BAD, POP3 -ERR).
bool is_cancel(std::string_view response);

enum class Authzid {
    EmptyOrSame,  // authzid must be empty or equal authcid
    AllowAny,     // the caller authorises proxy logins itself
};

struct PlainCredentials {
    std::string authzid;  // as sent; empty when none
    std::string authcid;
    Secret<std::string> password;
};

// PLAIN message already base64-decoded: [authzid] NUL authcid NUL passwd.
Result<PlainCredentials, SaslError> decode_plain(std::string_view message,
                                                 Authzid policy = Authzid::EmptyOrSame);
// PLAIN from the wire: base64 ("=" for an empty initial response, which then
// fails as Malformed). The decoded bytes are wiped before returning.
Result<PlainCredentials, SaslError> decode_plain_base64(std::string_view text,
                                                        Authzid policy = Authzid::EmptyOrSame);

// LOGIN: the server sends these challenges (base64 of "Username:" and
// "Password:"); each answer is decoded by the matching function below. In
// SMTP the user name may come as the initial response of AUTH LOGIN.
inline constexpr std::string_view kLoginUserChallenge = "VXNlcm5hbWU6";
inline constexpr std::string_view kLoginPasswordChallenge = "UGFzc3dvcmQ6";
Result<std::string, SaslError> decode_login_user(std::string_view text);
Result<Secret<std::string>, SaslError> decode_login_password(std::string_view text);

}  // namespace postern::sasl
