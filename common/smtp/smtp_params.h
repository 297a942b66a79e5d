// MAIL FROM / RCPT TO parameters (RFC 5321 §4.1.2 esmtp-param).
//
// Contract: pure parsing of the text after the path. Keywords and enumerated
// values are case-insensitive; every keyword may appear once (a duplicate is
// 501 5.5.4); a keyword this grammar does not know, or that belongs to the
// other command, is 555 5.5.4 (RFC 5321 §4.1.1.11). Whether an extension was
// advertised, and whether SIZE fits, is the session's decision.
//
// Supported: SIZE (RFC 1870), BODY (RFC 6152, RFC 3030), SMTPUTF8 (RFC 6531),
// RET / ENVID / NOTIFY / ORCPT (RFC 3461), AUTH (RFC 4954 §5, parsed, ignored).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/result.h"
#include "common/smtp/smtp_error.h"

namespace postern::smtp {

// RFC 3461 §4.4: ENVID is at most 100 characters (encoded).
inline constexpr std::size_t kMaxEnvidBytes = 100;
// RFC 3461 §4.2: the whole ORCPT parameter is at most 500 characters.
inline constexpr std::size_t kMaxOrcptBytes = 500;
// RFC 1870 §3: size-value ::= 1*20DIGIT
inline constexpr std::size_t kMaxSizeDigits = 20;

enum class Body { Unspecified, SevenBit, EightBitMime, BinaryMime };
enum class Ret { Unspecified, Full, Hdrs };

// NOTIFY (RFC 3461 §4.1): NEVER, or any of SUCCESS, FAILURE, DELAY.
enum NotifyFlag : std::uint8_t {
    kNotifyNever = 1,
    kNotifySuccess = 2,
    kNotifyFailure = 4,
    kNotifyDelay = 8,
};

struct MailParams {
    std::optional<std::uint64_t> size;  // saturates at UINT64_MAX (still "too big")
    Body body = Body::Unspecified;
    bool smtputf8 = false;
    Ret ret = Ret::Unspecified;
    std::optional<std::string> envid;  // xtext-decoded
    std::optional<std::string> auth;   // xtext-decoded; "<>" for AUTH=<>; ignored by policy
};

struct Orcpt {
    std::string addr_type;  // e.g. "rfc822" (case preserved)
    std::string address;    // xtext-decoded
};

struct RcptParams {
    std::uint8_t notify = 0;  // 0 = not given; else NotifyFlag bits
    std::optional<Orcpt> orcpt;
};

[[nodiscard]] Result<MailParams, ParseError> parse_mail_params(std::string_view text);
[[nodiscard]] Result<RcptParams, ParseError> parse_rcpt_params(std::string_view text);

// xtext = *( xchar / hexchar ); xchar = "!".."~" except "+" and "=";
// hexchar = "+" 2(%x30-39 / %x41-46)  (RFC 3461 §4, upper-case hex only)
[[nodiscard]] std::optional<std::string> xtext_decode(std::string_view text);
std::string xtext_encode(std::string_view text);

}  // namespace postern::smtp
