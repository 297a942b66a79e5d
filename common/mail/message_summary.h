// What imapd needs to answer FETCH without re-parsing the message file,
// computed once by mda at delivery and stored in the index's summary column.
//
// Contract:
// - summarize() never fails and does bounded work (see mime_parser.h).
// - envelope / bodystructure / body are complete IMAP values, outer
//   parentheses included, ready to follow "ENVELOPE ", "BODYSTRUCTURE ",
//   "BODY " in a FETCH response. They follow RFC 3501 §7.4.2 exactly as
//   Dovecot renders them (the oracle): literals for 8-bit, CR/LF or more than
//   four quoted-specials; default ("charset" "us-ascii") on text parts;
//   Sender and Reply-To default to From (RFC 3501 §7.4.2 ENVELOPE).
// - Sizes ending in _crlf count bare LF as CRLF: RFC822.SIZE and every size
//   in BODYSTRUCTURE are of the message as served with CRLF. Offsets and
//   plain sizes are physical bytes of the stored file. If the file uses bare
//   LF, imapd must convert when it serves a range.
// - serialize()/parse_summary() round-trip exactly. parse_summary() treats
//   its input as untrusted (the index can be damaged) and never throws.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/result.h"
#include "common/mail/mime_parser.h"

namespace postern::mail {

// One addressable section (RFC 3501 §6.4.5 section-part).
struct SectionInfo {
    std::string section;  // "" for the whole message, else "1", "1.2", ...
    // BODY[<section>.MIME] (for "": BODY[HEADER]).
    std::size_t header_offset = 0;
    std::size_t header_size = 0;
    std::size_t header_size_crlf = 0;
    // BODY[<section>] (for "": BODY[TEXT]).
    std::size_t body_offset = 0;
    std::size_t body_size = 0;
    std::size_t body_size_crlf = 0;
    std::size_t body_lines = 0;
    // Content-Transfer-Encoding lowercased, "7bit" when absent, for BINARY.
    std::string encoding = "7bit";
    bool multipart = false;
    // message/rfc822: BODY[<section>.HEADER] is the first inner_header_size
    // bytes of the body, BODY[<section>.TEXT] the rest.
    bool message = false;
    std::size_t inner_header_size = 0;
    std::size_t inner_header_size_crlf = 0;

    friend bool operator==(const SectionInfo&, const SectionInfo&) = default;
};

struct MessageSummary {
    std::string envelope;               // "(date subject from ... message-id)"
    std::string bodystructure;          // with extension data
    std::string body;                   // without extension data
    std::size_t size = 0;               // physical bytes of the file
    std::size_t size_crlf = 0;          // RFC822.SIZE
    std::size_t lines = 0;              // LF count of the whole message
    bool limited = false;               // the parse hit a depth or part-count limit
    std::vector<SectionInfo> sections;  // "" first, then depth-first order

    friend bool operator==(const MessageSummary&, const MessageSummary&) = default;
};

MessageSummary summarize(std::string_view message, const MimeLimits& limits = {});

// The section entry for "1.2" etc., or nullptr. "" is the whole message.
const SectionInfo* find_section(const MessageSummary& summary, std::string_view section);

// ENVELOPE of a header block (top-level message or an encapsulated one).
std::string render_envelope(const std::vector<HeaderField>& header);

// BODYSTRUCTURE (extended) or BODY of a parsed tree.
std::string render_body_structure(const MimePart& root, bool extended);

// Single-string form for the index (JSON; byte strings are mapped 1:1 onto
// U+0000..U+00FF so that 8-bit literals survive JSON's UTF-8 rule).
std::string serialize(const MessageSummary& summary);
Result<MessageSummary> parse_summary(std::string_view text);

}  // namespace postern::mail
