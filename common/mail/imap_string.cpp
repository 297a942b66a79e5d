#include "common/mail/imap_string.h"

namespace postern::mail {

namespace {

// Dovecot's QUOTED_MAX_ESCAPE_CHARS: past four escapes a literal is shorter
// for typical (two-digit) lengths.
constexpr int kQuotedMaxEscapes = 4;

void append_literal(std::string& out, std::string_view s) {
    out += '{';
    out += std::to_string(s.size());
    out += "}\r\n";
    out += s;
}

void append_quoted(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

bool is_lwsp(char c) {
    return c == ' ' || c == '\t';
}

}  // namespace

void append_imap_string(std::string& out, std::string_view s) {
    // Dovecot works on C strings: a NUL ends the value. Doing the same keeps
    // NUL out of our output (a literal may not carry it, RFC 3501 §4.3).
    s = s.substr(0, s.find('\0'));
    int escapes = 0;
    for (char c : s) {
        bool special = c == '"' || c == '\\';
        if ((special && ++escapes > kQuotedMaxEscapes) || c == '\r' || c == '\n' ||
            static_cast<unsigned char>(c) >= 0x80) {
            append_literal(out, s);
            return;
        }
    }
    append_quoted(out, s);
}

void append_imap_nstring(std::string& out, const std::optional<std::string>& s) {
    if (!s) {
        out += "NIL";
        return;
    }
    append_imap_string(out, *s);
}

void append_imap_nstring_nolf(std::string& out, const std::optional<std::string>& s) {
    if (!s) {
        out += "NIL";
        return;
    }
    std::string clean;
    for (char c : *s) {
        if (c != '\r' && c != '\n') clean += c;
    }
    append_imap_string(out, clean);
}

void append_imap_string_for_humans(std::string& out, std::string_view s) {
    std::string clean;
    bool modified = false;
    bool last_lwsp = true;  // drops leading whitespace
    for (char c : s) {
        if (c == '\r' || c == '\n') {
            modified = true;
        } else if (is_lwsp(c)) {
            if (c == '\t' || last_lwsp) modified = true;
            if (!last_lwsp) clean += ' ';
            last_lwsp = true;
        } else {
            if (c == '\0') {
                c = static_cast<char>(0x80);
                modified = true;
            }
            if (c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x80) modified = true;
            clean += c;
            last_lwsp = false;
        }
    }
    if (!clean.empty() && clean.back() == ' ') {
        clean.pop_back();
        modified = true;
    }
    if (!modified) {
        out += '"';
        out += clean;
        out += '"';
    } else if (clean.empty()) {
        out += "\"\"";
    } else {
        append_literal(out, clean);
    }
}

}  // namespace postern::mail
