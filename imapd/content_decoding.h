// Content-Transfer-Encoding decoding (RFC 2045 §6): for FETCH BINARY (RFC
// 3516) and for SEARCH BODY/TEXT, which match decoded text; and the charset
// conversion SEARCH needs to compare characters, not bytes (RFC 9051
// §6.4.4). Pure.
//
// Decoding is lenient, as readers of real mail must be: base64 skips
// characters outside its alphabet (RFC 2045 §6.8) and stops at "=";
// quoted-printable keeps a malformed "=" sequence as written and removes
// soft line breaks and the trailing whitespace of each line (§6.7 rule 3).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace postern::imap {

std::string decode_base64_lenient(std::string_view text);
std::string decode_quoted_printable(std::string_view text);

// `encoding` as the summary keeps it (lowercased). 7bit, 8bit and binary are
// identity; nullopt for an encoding we do not know (BINARY: NO [UNKNOWN-CTE]).
std::optional<std::string> decode_content(std::string_view data, std::string_view encoding);

// Text in `charset` (a MIME charset name: ISO-8859-1, windows-1252, KOI8-R,
// ...) as UTF-8, through glibc iconv. UTF-8 and US-ASCII are returned as
// they are. A byte sequence invalid in the charset becomes U+FFFD and the
// conversion goes on; a truncated sequence at the end is dropped. nullopt
// for a charset iconv does not know: the caller keeps the raw bytes, as
// Dovecot does.
std::optional<std::string> charset_to_utf8(std::string_view charset, std::string_view text);

}  // namespace postern::imap
