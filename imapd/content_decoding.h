// Content-Transfer-Encoding decoding (RFC 2045 §6): for FETCH BINARY (RFC
// 3516) and for SEARCH BODY/TEXT, which match decoded text. Pure.
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

}  // namespace postern::imap
