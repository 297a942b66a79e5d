// ParseError: why a line of SMTP/LMTP input was refused, as the reply the
// server should send. Shared by the command, address and parameter parsers.
//
// The text is meant for the client and never contains the offending input:
// echoing hostile bytes back is how reply injection starts.
#pragma once

#include <string>

#include "common/base/result.h"

namespace postern::smtp {

struct ParseError {
    int code = 0;          // e.g. 501
    std::string enhanced;  // RFC 3463 enhanced status, e.g. "5.5.4"
    std::string text;      // human-readable, no CR/LF
};

inline ParseError parse_error(int code, std::string enhanced, std::string text) {
    return ParseError{code, std::move(enhanced), std::move(text)};
}

// Success or the reply to send.
using ParseStatus = Result<void, ParseError>;

}  // namespace postern::smtp
