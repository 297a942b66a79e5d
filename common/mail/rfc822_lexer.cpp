#include "common/mail/rfc822_lexer.h"

#include <cstring>

namespace postern::mail::detail {

bool is_wsp(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// tspecials := "(" / ")" / "<" / ">" / "@" / "," / ";" / ":" / "\" / <"> /
//              "/" / "[" / "]" / "?" / "="          (RFC 2045 §5.1)
bool is_tspecial(char c) {
    return c != '\0' && std::strchr("()<>@,;:\\\"/[]?=", c) != nullptr;
}

namespace {

bool is_ctl(char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
}

// atext (RFC 5322 §3.2.3) plus 8-bit bytes (RFC 6532 and real-world mail).
bool is_atext(char c) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
    if (is_ctl(c) || c == ' ') return false;
    return std::strchr("()<>[]:;@\\,.\"", c) == nullptr;
}

}  // namespace

std::string Lexer::skip_cfws() {
    std::string comment;
    while (!at_end()) {
        char c = peek();
        if (is_wsp(c)) {
            ++pos_;
            continue;
        }
        if (c != '(') break;
        // ctext with nesting: depth is a counter, never recursion.
        comment.clear();
        std::size_t depth = 0;
        while (!at_end()) {
            c = text_[pos_++];
            if (c == '\\' && !at_end()) {
                comment += text_[pos_++];
                continue;
            }
            if (c == '(') {
                if (depth++ > 0) comment += c;
            } else if (c == ')') {
                if (--depth == 0) break;
                comment += c;
            } else if (c != '\r' && c != '\n') {
                comment += c;
            }
        }
    }
    return comment;
}

std::string Lexer::mime_token() {
    std::size_t start = pos_;
    while (!at_end()) {
        char c = text_[pos_];
        if (c == ' ' || is_ctl(c) || is_tspecial(c)) break;
        ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
}

std::string Lexer::atom(bool allow_dot) {
    std::size_t start = pos_;
    while (!at_end() && (is_atext(text_[pos_]) || (allow_dot && text_[pos_] == '.')))
        ++pos_;
    return std::string(text_.substr(start, pos_ - start));
}

std::string Lexer::quoted_string() {
    std::string out;
    ++pos_;  // opening DQUOTE
    while (!at_end()) {
        char c = text_[pos_++];
        if (c == '"') return out;
        if (c == '\\' && !at_end()) c = text_[pos_++];
        if (c == '\r' || c == '\n') continue;  // folding inside the string
        out += c;
    }
    return out;
}

std::string Lexer::domain_literal() {
    std::size_t start = pos_;
    while (!at_end()) {
        char c = text_[pos_++];
        if (c == ']') break;
        if (c == '\\' && !at_end()) ++pos_;
    }
    std::string out;
    for (char c : text_.substr(start, pos_ - start)) {
        if (c != '\r' && c != '\n') out += c;
    }
    return out;
}

void Lexer::skip_past(char stop) {
    while (!at_end()) {
        char c = peek();
        if (c == '"') {
            (void)quoted_string();
        } else if (c == '(') {
            (void)skip_cfws();
        } else {
            ++pos_;
            if (c == stop) return;
        }
    }
}

void Lexer::skip_to_any(std::string_view stops) {
    while (!at_end()) {
        char c = peek();
        if (stops.find(c) != std::string_view::npos) return;
        if (c == '"') {
            (void)quoted_string();
        } else if (c == '(') {
            (void)skip_cfws();
        } else {
            ++pos_;
        }
    }
}

}  // namespace postern::mail::detail
