// RFC 2047 encoded-word decoding for SEARCH and display.
//
// encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
#include <optional>

#include "common/base/ascii.h"
#include "common/mail/charset.h"
#include "common/mail/header_parser.h"

namespace postern::mail {

namespace {

// RFC 2047 §2 caps a word at 75 bytes; real mailers exceed it, so we accept
// more but keep a cap so that a hostile "=?" run costs bounded work per start.
constexpr std::size_t kMaxEncodedWordBytes = 1024;

std::optional<std::string> decode_b(std::string_view text) {
    std::string out;
    unsigned bits = 0;
    int nbits = 0;
    for (char c : text) {
        if (c == '=') break;
        int v = base64_value(c);
        if (v < 0) return std::nullopt;
        bits = (bits << 6) | static_cast<unsigned>(v);
        nbits += 6;
        if (nbits >= 8) {
            nbits -= 8;
            out += static_cast<char>((bits >> nbits) & 0xff);
        }
    }
    return out;
}

// RFC 2047 §4.2: "_" is SPACE, "=XX" is a byte.
std::string decode_q(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '_') {
            out += ' ';
        } else if (c == '=' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
                   hex_value(text[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}

struct Word {
    std::string decoded;
    std::size_t length = 0;  // bytes of input consumed
};

// Tries an encoded word at the start of `s` (which begins with "=?").
std::optional<Word> encoded_word_at(std::string_view s) {
    s = s.substr(0, kMaxEncodedWordBytes);
    std::size_t q1 = s.find('?', 2);
    if (q1 == std::string_view::npos || q1 + 2 >= s.size() || s[q1 + 2] != '?') {
        return std::nullopt;
    }
    std::string_view charset = s.substr(2, q1 - 2);
    char encoding = s[q1 + 1];
    std::size_t text_start = q1 + 3;
    std::size_t end = s.find("?=", text_start);
    if (end == std::string_view::npos || charset.empty()) return std::nullopt;
    std::string_view text = s.substr(text_start, end - text_start);
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') return std::nullopt;
    }
    std::optional<std::string> bytes;
    if (encoding == 'B' || encoding == 'b') {
        bytes = decode_b(text);
    } else if (encoding == 'Q' || encoding == 'q') {
        bytes = decode_q(text);
    }
    if (!bytes) return std::nullopt;
    auto utf8 = detail::charset_to_utf8(charset, *bytes);
    if (!utf8) return std::nullopt;
    return Word{std::move(*utf8), end + 2};
}

}  // namespace

std::string decode_encoded_words(std::string_view value) {
    std::string out;
    std::string pending_space;  // whitespace after an encoded word, held back
    bool after_word = false;
    std::size_t i = 0;
    while (i < value.size()) {
        char c = value[i];
        if (c == '=' && i + 1 < value.size() && value[i + 1] == '?') {
            if (auto word = encoded_word_at(value.substr(i))) {
                out += word->decoded;  // §6.2: space between adjacent words is dropped
                pending_space.clear();
                after_word = true;
                i += word->length;
                continue;
            }
        }
        if (after_word && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
            pending_space += c;
            ++i;
            continue;
        }
        out += pending_space;
        pending_space.clear();
        after_word = false;
        out += c;
        ++i;
    }
    out += pending_space;
    return out;
}

}  // namespace postern::mail
