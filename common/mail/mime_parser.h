// The MIME tree of one message held in memory (mda parses at delivery).
//
// Contract:
// - parse_mime() never fails: broken MIME yields the best tree Dovecot would
//   build (missing final boundary, preamble/epilogue, boundary lines with
//   trailing whitespace, invalid Content-Type → text/plain per RFC 2045 §5.2).
//   One exception: a multipart without a boundary parameter is invalid
//   (RFC 2046 §5.1.1) and becomes text/plain too, where Dovecot invents an
//   empty child part and hides the body.
// - Bounded work: nesting stops at MimeLimits::max_depth (deeper containers
//   become text/plain leaves flagged `truncated`), the number of parts at
//   max_parts; recursion depth is at most max_depth + 1, and each byte is
//   scanned O(max_depth) times.
// - Offsets are physical byte offsets into the message; sizes with a _crlf
//   suffix count each bare LF as CRLF, which is what IMAP reports (RFC 3501
//   §2.3.4: sizes are of the message in CRLF form; Dovecot's "virtual size").
// - HeaderField views borrow the message: the tree must not outlive it.
//
// STANDARDS: RFC 2045, RFC 2046 (§5.1.1 boundaries: the CRLF before a
// delimiter belongs to the delimiter), RFC 2183, RFC 3282, RFC 3501 §7.4.2.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/mail/header_parser.h"

namespace postern::mail {

struct MimeLimits {
    // Nesting of multiparts and message/rfc822; the brief's default. Dovecot
    // uses 100 (mail_max_nested_mime_parts); clients rarely go past 10.
    std::size_t max_depth = 32;
    // Parts in one message; Dovecot's mail_max_total_mime_parts default is
    // 10000. Past it, the rest of the multipart stays in its last part.
    std::size_t max_parts = 10000;
    // RFC 2045 §4: without MIME-Version the top-level Content-* fields are
    // ignored (text/plain), as Dovecot does. Parts inside a multipart or a
    // message/rfc822 are MIME without it.
    bool require_mime_version = true;
};

enum class PartKind { Leaf, Multipart, Message };

struct MimePart {
    // Content-* data; unset optionals are absent headers.
    std::string type = "text";
    std::string subtype = "plain";
    std::vector<Parameter> params;
    std::optional<std::string> id;
    std::optional<std::string> description;
    std::optional<std::string> encoding;
    std::optional<std::string> md5;
    std::optional<std::string> disposition;
    std::vector<Parameter> disposition_params;
    std::vector<std::string> language;
    std::optional<std::string> location;

    PartKind kind = PartKind::Leaf;
    bool truncated = false;  // a container past max_depth, shown as text/plain

    std::size_t header_offset = 0;  // header starts here
    std::size_t body_offset = 0;    // body starts here (after the blank line)
    std::size_t end = 0;            // one past the body
    std::size_t header_size_crlf = 0;
    std::size_t body_size_crlf = 0;
    std::size_t body_lines = 0;  // LF count in the body, as Dovecot counts

    std::vector<HeaderField> header;  // offsets absolute in the message
    // Multipart: its parts. Message: exactly one, the encapsulated message.
    std::vector<MimePart> children;

    bool is_text() const;
    std::size_t header_size() const { return body_offset - header_offset; }
    std::size_t body_size() const { return end - body_offset; }
};

struct MimeTree {
    MimePart root;  // the message: header = message header
    std::size_t part_count = 0;
    bool limited = false;  // max_depth or max_parts was hit
};

MimeTree parse_mime(std::string_view message, const MimeLimits& limits = {});

}  // namespace postern::mail
