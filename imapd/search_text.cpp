#include "imapd/search_text.h"

#include <algorithm>

#include "common/base/ascii.h"
#include "common/mail/header_parser.h"
#include "common/mail/message_summary.h"
#include "imapd/content_decoding.h"

namespace postern::imap {

namespace {

// Simple lower-case mapping of the scripts named in the header.
char32_t fold(char32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z' ? c + 0x20 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 0x20;
    if (c >= 0x100 && c <= 0x137) return c | 1;
    if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) return (c & 1) ? c + 1 : c;
    if (c >= 0x14A && c <= 0x177) return c | 1;
    if (c == 0x178) return 0xFF;
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 0x20;
    if (c == 0x386) return 0x3AC;  // Greek capitals with tonos
    if (c >= 0x388 && c <= 0x38A) return c + 37;
    if (c == 0x38C) return 0x3CC;
    if (c == 0x38E || c == 0x38F) return c + 63;
    if (c == 0x3C2) return 0x3C3;  // final sigma
    if (c >= 0x410 && c <= 0x42F) return c + 0x20;
    if (c >= 0x400 && c <= 0x40F) return c + 0x50;
    return c;
}

// The charset of a text/* part from its MIME header; "" when none is
// named or the part is not text (RFC 2045 §5.2: no Content-Type is
// text/plain; charset=us-ascii).
std::string part_charset(std::string_view header) {
    mail::HeaderBlock block = mail::parse_header_block(header);
    for (const mail::HeaderField& f : block.fields) {
        if (!iequals(f.name, "Content-Type")) continue;
        auto type = mail::parse_content_type(mail::unfold(f.raw_value));
        if (!type || !iequals(type->type, "text")) return "";
        for (const mail::Parameter& p : type->params)
            if (p.name == "charset") return p.value;
        return "";
    }
    return "";
}

// Decodes one UTF-8 sequence at s[i]; 0 on an invalid or overlong one.
std::size_t utf8_decode(std::string_view s, std::size_t i, char32_t& out) {
    auto b = [&s](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    std::size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (n == 0 || i + n > s.size()) return 0;
    char32_t v = c & (0x7F >> n);
    for (std::size_t k = 1; k < n; ++k) {
        if ((b(i + k) & 0xC0) != 0x80) return 0;
        v = (v << 6) | (b(i + k) & 0x3F);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF))) return 0;
    out = v;
    return n;
}

void utf8_append(std::string& out, char32_t c) {
    if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
    } else {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    }
    out += static_cast<char>(0x80 | (c & 0x3F));
}

}  // namespace

std::string fold_case(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c < 0x80) {
            out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 0x20 : c);
            ++i;
            continue;
        }
        char32_t cp = 0;
        std::size_t n = utf8_decode(s, i, cp);
        if (n == 0 || n == 4 || fold(cp) == cp) {
            // Invalid, astral or unchanged: the bytes as they are.
            std::size_t len = n == 0 ? 1 : n;
            out.append(s.substr(i, len));
            i += len;
            continue;
        }
        utf8_append(out, fold(cp));  // every folded target is in the BMP
        i += n;
    }
    return out;
}

bool folded_contains(std::string_view hay, std::string_view needle) {
    if (needle.empty()) return true;
    return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

const std::vector<SearchMessage::Field>& SearchMessage::header() {
    if (header_) return *header_;
    header_.emplace();
    mail::HeaderBlock block = mail::parse_header_block(file_);
    for (const mail::HeaderField& f : block.fields)
        header_->push_back(Field{std::string(f.name),
                                 fold_case(mail::decode_encoded_words(mail::unfold(f.raw_value)))});
    return *header_;
}

const std::vector<std::string>& SearchMessage::bodies() {
    if (bodies_) return *bodies_;
    bodies_.emplace();
    mail::MessageSummary summary = mail::summarize(file_);
    std::size_t last_offset = file_.size() + 1;
    for (const mail::SectionInfo& part : summary.sections) {
        if (part.multipart || part.message) continue;
        // A single-part message is both "" and "1": search it once.
        if (part.body_offset > file_.size() || part.body_offset == last_offset) continue;
        last_offset = part.body_offset;
        std::string_view raw = file_.substr(part.body_offset, part.body_size);
        auto decoded = decode_content(raw, part.encoding);
        std::string text = decoded ? std::move(*decoded) : std::string(raw);
        std::string charset = part.header_offset <= file_.size()
                                  ? part_charset(file_.substr(part.header_offset, part.header_size))
                                  : std::string();
        if (!charset.empty()) {
            // An unknown charset keeps the bytes as they are (Dovecot too).
            if (auto utf8 = charset_to_utf8(charset, text)) text = std::move(*utf8);
        }
        bodies_->push_back(fold_case(text));
    }
    return *bodies_;
}

}  // namespace postern::imap
