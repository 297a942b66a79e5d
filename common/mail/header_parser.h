// RFC 5322 header blocks and the structured fields IMAP needs.
//
// Contract:
// - Everything here is pure and bounded: work is linear in the input (comment
//   nesting, continuations and encoded words are scanned iteratively), nothing
//   recurses on input, nothing throws, and junk never aborts the parse; it is
//   skipped the way Dovecot's lib-mail skips it.
// - HeaderField views borrow the parsed text: keep the message alive.
// - Tolerated: bare LF, CRLF, 8-bit bytes, NUL bytes, lines without a colon
//   (skipped), a leading continuation line (skipped), a missing blank line
//   (the whole text is header, the body is empty).
//
// STANDARDS: RFC 5322 (fields, unfolding, address-list), RFC 2045 (MIME
// headers), RFC 2047 (encoded words), RFC 2231 (parameter continuations and
// charsets), RFC 2183 (Content-Disposition), RFC 3282 (Content-Language).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::mail {

struct HeaderField {
    std::string_view name;       // as written, trailing WSP before the colon removed
    std::string_view raw_value;  // from after the colon to the end of the last
                                 // continuation line, line ending excluded
    std::size_t offset = 0;      // field start in the parsed text
};

struct HeaderBlock {
    std::vector<HeaderField> fields;
    std::size_t size = 0;        // header bytes including the blank line, if any
    bool has_separator = false;  // a blank line ended the header
};

// Splits `text` into header fields; the body starts at `size`.
HeaderBlock parse_header_block(std::string_view text);

// First field named `name` (ASCII case-insensitive), if any.
const HeaderField* find_field(const HeaderBlock& block, std::string_view name);

// RFC 5322 §2.2.3 unfolding: CR and LF removed, leading WSP skipped (as
// Dovecot's MESSAGE_HEADER_PARSER_FLAG_SKIP_INITIAL_LWSP does).
std::string unfold(std::string_view raw_value);

// RFC 2047 decoding to UTF-8 for SEARCH and display. B and Q; charsets UTF-8,
// US-ASCII and ISO-8859-1 (and its alias Latin-1) are converted; words in any
// other charset, or malformed, are left as written. Whitespace between two
// adjacent encoded words is dropped (§6.2).
std::string decode_encoded_words(std::string_view value);

struct Parameter {
    std::string name;  // lowercased
    std::string value;
};

// Content-Type (RFC 2045 §5.1). type/subtype keep their case, as Dovecot
// writes them. Parameters follow Dovecot's rfc2231_parse(): plain ones first
// in order, then RFC 2231 ones merged and sorted by name; an extended
// (charset-encoded) result keeps the name "name*" and its encoded value.
struct ContentType {
    std::string type;
    std::string subtype;
    std::vector<Parameter> params;
};
std::optional<ContentType> parse_content_type(std::string_view value);

// Content-Disposition (RFC 2183): token then parameters as above.
struct ContentDisposition {
    std::string disposition;
    std::vector<Parameter> params;
};
std::optional<ContentDisposition> parse_content_disposition(std::string_view value);

// Content-Transfer-Encoding: a single MIME token, nothing after it; else none.
std::optional<std::string> parse_transfer_encoding(std::string_view value);

// Content-Language (RFC 3282): comma-separated atoms.
std::vector<std::string> parse_content_language(std::string_view value);

// Value of parameter `name` decoded to UTF-8: "name*" (RFC 2231 charset
// encoding, percent-decoded and converted when the charset is known) wins
// over plain "name".
std::optional<std::string> decoded_parameter(const std::vector<Parameter>& params,
                                             std::string_view name);

// One element of an RFC 3501 address list. A group is a start element
// (mailbox = group name, host unset) and an end element (all unset).
struct Address {
    std::optional<std::string> name;
    std::optional<std::string> route;
    std::optional<std::string> mailbox;
    std::optional<std::string> host;
};

// RFC 5322 §3.4 address-list, tolerant: an element that cannot be parsed is
// skipped up to the next comma; a missing local part or domain is filled in
// with MISSING_MAILBOX / MISSING_DOMAIN as Dovecot does; a trailing comment is
// the display name when there is no phrase. Display names stay raw (encoded
// words are not decoded: IMAP ENVELOPE carries them as written).
std::vector<Address> parse_address_list(std::string_view value);

}  // namespace postern::mail
