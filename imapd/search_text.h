// The text SEARCH matches against (RFC 9051 §6.4.4, RFC 6855 §3): header
// values unfolded with their encoded words decoded (RFC 2047), and the text
// of each body part with its Content-Transfer-Encoding undone. Matching is a
// substring test after simple case folding of UTF-8: ASCII, Latin-1,
// Latin Extended-A, Greek and Cyrillic letters (what mail in Europe needs;
// full Unicode folding would need tables we do not carry). Bytes that are
// not valid UTF-8 are compared as they are.
//
// A text/* body part is converted from its charset= to UTF-8 before
// matching (content_decoding.h: iconv; an unknown charset is matched in its
// raw bytes, as Dovecot does), so "voilà" finds a Latin-1 or
// windows-1252 body and "привет" a KOI8-R one (RFC 9051 §6.4.4: strings
// are compared as characters). Encoded words in header values are decoded
// by common/mail, which converts UTF-8, US-ASCII and Latin-1 only. The
// message is parsed lazily, once, on the first key that needs the header
// or the bodies.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace postern::imap {

std::string fold_case(std::string_view utf8);

// `needle` already folded (SearchKey keeps it so).
bool folded_contains(std::string_view folded_hay, std::string_view folded_needle);

class SearchMessage {
  public:
    explicit SearchMessage(std::string_view file) : file_(file) {}

    struct Field {
        std::string name;   // as written
        std::string value;  // unfolded, decoded, case-folded
    };
    const std::vector<Field>& header();
    // Decoded, case-folded text of every leaf body part.
    const std::vector<std::string>& bodies();

  private:
    std::string_view file_;
    std::optional<std::vector<Field>> header_;
    std::optional<std::vector<std::string>> bodies_;
};

}  // namespace postern::imap
