// SMTP/LMTP replies: the server-side builder and the client-side parser.
//
// Builder: Reply{code, enhanced, lines} -> "250-first\r\n250 last\r\n". Every
// line carries the enhanced status code (RFC 2034 §3) when one is set. Text is
// sanitized: control bytes become '?', so no reply text can inject a line.
//
// Parser: resumable. feed() any chunks of the peer's output, then call next()
// until it returns NeedMore. It never holds more than one partial line beyond
// what was fed, and refuses lines longer than max_line_bytes and replies with
// more than max_lines lines (a hostile server must not make us buffer without
// bound). Lenient as a client should be: LF alone ends a line, a bare "250"
// without text is accepted.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/smtp/smtp_error.h"

namespace postern::smtp {

struct Reply {
    int code = 0;
    std::string enhanced;            // "2.1.5" or empty (e.g. greeting and EHLO, RFC 2034 §3)
    std::vector<std::string> lines;  // text of each line, without code or enhanced status

    bool positive() const { return code >= 200 && code < 400; }
    bool transient() const { return code >= 400 && code < 500; }
    bool permanent() const { return code >= 500; }
};

// A one-line reply.
Reply make_reply(int code, std::string enhanced, std::string text);
Reply to_reply(const ParseError& error);

// Wire form with CRLF line endings. An empty `lines` renders as one line with
// no text ("250 2.0.0\r\n"). The code must be 200..559 and the enhanced
// status, if any, must have the code's class: these are our own constants.
std::string format_reply(const Reply& reply);

// "250 2.1.5 Ok" on one line, bounded and printable: a remote server's or
// mda's reply as logs, queued recipients' last_reply and bounces quote it.
std::string reply_text(const Reply& reply);

// True for "d.ddd.ddd" with class 2, 4 or 5 (RFC 3463 §2).
bool is_enhanced_status(std::string_view s);

struct ReplyParserLimits {
    // RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets; real servers
    // exceed it in EHLO and error text, so allow 4 KiB before calling abuse.
    std::size_t max_line_bytes = 4096;
    // No RFC number; EHLO replies have ~20 lines. Past this the peer is hostile.
    std::size_t max_lines = 100;
};

class ReplyParser {
  public:
    enum class Status { Complete, NeedMore, Error };
    struct Next {
        Status status = Status::NeedMore;
        Reply reply;        // valid when Complete
        std::string error;  // for the log when Error; the parser is then unusable
    };

    explicit ReplyParser(ReplyParserLimits limits = {}) : limits_(limits) {}

    void feed(std::string_view bytes) { buffer_.append(bytes); }
    Next next();
    // Bytes fed but not yet part of a returned reply.
    std::size_t buffered_bytes() const { return buffer_.size() - pos_; }

  private:
    Next fail_with(std::string message);
    bool take_line(std::string_view line, Next& out);

    ReplyParserLimits limits_;
    std::string buffer_;
    std::size_t pos_ = 0;  // start of the first unparsed line in buffer_
    Reply partial_;        // lines of a multi-line reply seen so far
    bool failed_ = false;
};

}  // namespace postern::smtp
