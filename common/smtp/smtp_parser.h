// parse_command: one framed command line (CRLF already removed by the net
// layer's LineReader, which also enforces the line length limit) -> Command,
// or the ParseError reply to send.
//
// Contract: pure and session-free, shared by smtpd, submissiond and mda's
// LMTP server. Verbs are case-insensitive. The grammar is strict (RFC 5321
// §4.1.1, §4.1.2) with one tolerance that Postfix also has: a single SP after
// "FROM:" / "TO:". No trailing white space, no NUL, CR or LF inside the line.
// Never echoes client bytes into ParseError::text.
#pragma once

#include <string_view>

#include "common/base/result.h"
#include "common/smtp/smtp_command.h"
#include "common/smtp/smtp_error.h"

namespace postern::smtp {

struct ParseOptions {
    // The current transaction's MAIL FROM carried SMTPUTF8: UTF-8 is allowed in
    // RCPT TO paths (RFC 6531 §3.4). MAIL decides this from its own parameters.
    bool smtputf8 = false;
};

[[nodiscard]] Result<Command, ParseError> parse_command(std::string_view line,
                                                        const ParseOptions& options = {});

// chunk-size [ SP end-marker ]; chunk-size = 1*DIGIT; end-marker = "LAST"
[[nodiscard]] Result<BdatArgs, ParseError> parse_bdat_args(std::string_view argument);

}  // namespace postern::smtp
