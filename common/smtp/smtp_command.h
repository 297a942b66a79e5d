// Command: one parsed SMTP (RFC 5321) or LMTP (RFC 2033) command line.
//
// A value type with no session knowledge: what the client asked for, already
// syntax-checked. Whether the command is allowed now is the session's call.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/smtp/smtp_address.h"
#include "common/smtp/smtp_params.h"

namespace postern::smtp {

enum class Verb {
    Ehlo,
    Helo,
    Lhlo,  // LMTP (RFC 2033 §4.1)
    Mail,
    Rcpt,
    Data,
    Bdat,  // CHUNKING (RFC 3030)
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    Starttls,
    Auth,
    Unknown,  // well-formed line, verb we do not know: 500 5.5.1 is the session's reply
};

// "BDAT" SP chunk-size [ SP end-marker ]   (RFC 3030 §2)
struct BdatArgs {
    std::uint64_t chunk_bytes = 0;
    bool last = false;
};

struct Command {
    Verb verb = Verb::Unknown;
    std::string raw_verb;  // as sent, e.g. "mail"
    std::string argument;  // everything after the verb and its SP ("" when none)

    // Filled for the verbs they belong to; default-constructed otherwise.
    Path path;               // MAIL (reverse-path), RCPT (forward-path)
    MailParams mail_params;  // MAIL
    RcptParams rcpt_params;  // RCPT
    BdatArgs bdat;           // BDAT
};

// Canonical upper-case name, e.g. "EHLO"; "?" for Unknown.
std::string_view verb_name(Verb verb);

}  // namespace postern::smtp
