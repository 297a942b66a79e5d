// DATA body transparency (RFC 5321 §4.5.2) in both directions.
//
// DotDecoder (server side, DATA): streaming. Feed arbitrary chunks; decoded
// body bytes are appended to the caller's buffer, which it flushes to the
// spool, so nothing here ever holds more than the current chunk.
//
//   * End of data is ONLY <CRLF>.<CRLF> (RFC 5321 §4.1.1.4), where the first
//     CRLF may be the end of the DATA command line itself (empty message).
//   * Dot-unstuffing: a '.' at the start of a line (after CRLF) is removed.
//   * Smuggling policy (CVE-2023-51764, CVE-2023-51765, CVE-2023-51766 class,
//     SEC Consult, Dec 2023): a bare LF or bare CR is never a line end here,
//     so "\n.\n", "\r.\r", "\r\n.\r", "\n.\r\n", ... cannot end the message.
//     Because a downstream hop might still read them as line ends, a message
//     containing any bare CR or LF is refused at end of data with 550 5.6.0,
//     as Postfix does with smtpd_forbid_bare_newline=yes. The flag is exposed
//     (saw_bare_newline) for logging.
//   * Size: past max_message_bytes of decoded body, bytes are no longer
//     emitted but reading goes on to the terminator; the result is TooBig
//     (552 5.3.4, RFC 5321 §4.5.3.1.10).
//
// DotEncoder (client side, and POP3 RETR/TOP): streaming. Converts every
// bare LF and bare CR to CRLF (so the wire carries no bare newline for any
// receiver to misread), dot-stuffs lines starting with '.', and finish()
// adds a final CRLF if needed and the ".\r\n" terminator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/smtp/smtp_error.h"

namespace postern::smtp {

enum class DotResult {
    Ok,
    TooBig,       // 552 5.3.4
    BareNewline,  // 550 5.6.0
};

// The reply for a failed DotResult; nullopt for Ok.
std::optional<ParseError> dot_result_error(DotResult result);

class DotDecoder {
  public:
    explicit DotDecoder(std::uint64_t max_message_bytes) : max_bytes_(max_message_bytes) {}

    // Consumes bytes of `input` and appends decoded body bytes to `out`.
    // Returns how many bytes were consumed: all of them, unless the
    // terminator was reached, in which case the bytes after it (pipelined
    // commands) are left to the caller. Feeding after done() consumes nothing.
    std::size_t feed(std::string_view input, std::string& out);

    bool done() const { return state_ == State::Done; }
    // Valid once done(). BareNewline takes precedence over TooBig.
    DotResult result() const;
    bool saw_bare_newline() const { return bare_newline_; }
    // Decoded size, counting bytes dropped after the limit was passed.
    std::uint64_t body_bytes() const { return body_bytes_; }

  private:
    enum class State { LineStart, InLine, SawCr, Dot, DotCr, Done };

    void emit(std::string& out, std::string_view bytes);
    void step(char c, std::string& out);

    std::uint64_t max_bytes_;
    std::uint64_t body_bytes_ = 0;
    State state_ = State::LineStart;
    bool bare_newline_ = false;
};

class DotEncoder {
  public:
    // Appends the wire form of `body` to `out`.
    void encode(std::string_view body, std::string& out);
    // Appends the end: CRLF if the body did not end with a line end, then ".\r\n".
    void finish(std::string& out);

  private:
    bool line_start_ = true;
    bool pending_cr_ = false;
};

}  // namespace postern::smtp
