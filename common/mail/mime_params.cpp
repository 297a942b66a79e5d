// RFC 2045 Content-* fields and RFC 2231 parameters.
//
// content := "Content-Type" ":" type "/" subtype *(";" parameter)
// parameter := attribute "=" value ; value := token / quoted-string
// RFC 2231: attribute "*" [index] ["*"] for continuations and charsets.
#include <algorithm>

#include "common/base/ascii.h"
#include "common/mail/charset.h"
#include "common/mail/header_parser.h"
#include "common/mail/rfc822_lexer.h"

namespace postern::mail {

using detail::Lexer;

namespace {

// Parameters per value; beyond this the rest is ignored. Real mail has a
// handful; the cap keeps a hostile header from costing n log n sorts of junk.
constexpr std::size_t kMaxParameters = 256;

struct RawParam {
    std::string name;
    std::string value;
};

// Reads `; name = value` pairs until the input ends. A malformed pair is
// skipped up to the next ";" (Dovecot's rfc2231_parse "try to continue").
std::vector<RawParam> raw_params(Lexer& lex) {
    std::vector<RawParam> out;
    while (out.size() < kMaxParameters) {
        (void)lex.skip_cfws();
        if (lex.at_end()) break;
        if (lex.peek() == ';') {
            lex.advance();
        } else {
            lex.skip_past(';');  // junk before the next parameter
        }
        (void)lex.skip_cfws();
        std::string name = lex.mime_token();
        (void)lex.skip_cfws();
        if (name.empty() || lex.peek() != '=') continue;
        lex.advance();
        (void)lex.skip_cfws();
        std::string value = lex.peek() == '"' ? lex.quoted_string() : lex.mime_token();
        out.push_back({ascii_lowercase(name), std::move(value)});
    }
    return out;
}

struct Section {
    std::string base;
    unsigned index = 0;
    bool extended = false;
    std::string value;
};

// "name*", "name*N", "name*N*" → Section; anything else is a plain param.
std::optional<Section> rfc2231_section(const RawParam& p) {
    std::size_t star = p.name.find('*');
    if (star == std::string::npos) return std::nullopt;
    Section s{p.name.substr(0, star), 0, false, p.value};
    std::size_t i = star + 1;
    // "name*" alone is one extended section (RFC 2231 §4).
    if (i == p.name.size()) return Section{s.base, 0, true, p.value};
    constexpr unsigned kMaxIndex = 1000000;  // keeps the index arithmetic in range
    while (i < p.name.size() && p.name[i] >= '0' && p.name[i] <= '9') {
        s.index = std::min(kMaxIndex, s.index * 10 + static_cast<unsigned>(p.name[i] - '0'));
        ++i;
    }
    if (i < p.name.size() && p.name[i] == '*') {
        s.extended = true;
        ++i;
    }
    if (i != p.name.size()) return std::nullopt;
    return s;
}

std::string percent_escape(std::string_view s) {
    std::string out;
    for (char c : s)
        out += c == '%' ? std::string("%25") : std::string(1, c);
    return out;
}

// Merges one run of sections of the same name, as Dovecot's rfc2231_parse().
void merge_run(const std::vector<Section>& run, std::vector<Parameter>& out) {
    bool contiguous = true, have_extended = false;
    for (std::size_t i = 0; i < run.size(); ++i) {
        if (run[i].index != i) contiguous = false;
        if (run[i].extended) have_extended = true;
    }
    if (!contiguous) {
        for (const Section& s : run) {
            out.push_back(
                {s.base + "*" + std::to_string(s.index) + (s.extended ? "*" : ""), s.value});
        }
        return;
    }
    std::string value;
    if (!run[0].extended && have_extended) value = "''";
    for (const Section& s : run)
        value += (!s.extended && have_extended) ? percent_escape(s.value) : s.value;
    out.push_back({run[0].base + (have_extended ? "*" : ""), std::move(value)});
}

std::vector<Parameter> parse_params(Lexer& lex) {
    std::vector<Parameter> out;
    std::vector<Section> sections;
    for (RawParam& p : raw_params(lex)) {
        if (auto s = rfc2231_section(p)) {
            sections.push_back(std::move(*s));
        } else {
            out.push_back({std::move(p.name), std::move(p.value)});
        }
    }
    std::stable_sort(sections.begin(), sections.end(), [](const Section& a, const Section& b) {
        return a.base != b.base ? a.base < b.base : a.index < b.index;
    });
    std::size_t i = 0;
    while (i < sections.size()) {
        std::size_t j = i;
        while (j < sections.size() && sections[j].base == sections[i].base)
            ++j;
        merge_run({sections.begin() + static_cast<std::ptrdiff_t>(i),
                   sections.begin() + static_cast<std::ptrdiff_t>(j)},
                  out);
        i = j;
    }
    return out;
}

// extended-initial-value := [charset] "'" [language] "'" extended-other-values
std::string decode_extended(std::string_view value) {
    std::size_t q1 = value.find('\'');
    std::size_t q2 = q1 == std::string_view::npos ? q1 : value.find('\'', q1 + 1);
    if (q2 == std::string_view::npos) return std::string(value);
    std::string_view charset = value.substr(0, q1);
    std::string bytes;
    std::string_view rest = value.substr(q2 + 1);
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '%' && i + 2 < rest.size() && hex_value(rest[i + 1]) >= 0 &&
            hex_value(rest[i + 2]) >= 0) {
            bytes += static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2]));
            i += 2;
        } else {
            bytes += rest[i];
        }
    }
    if (charset.empty()) return bytes;
    auto utf8 = detail::charset_to_utf8(charset, bytes);
    return utf8 ? *utf8 : bytes;
}

}  // namespace

std::optional<ContentType> parse_content_type(std::string_view value) {
    Lexer lex(value);
    (void)lex.skip_cfws();
    ContentType ct;
    ct.type = lex.mime_token();
    (void)lex.skip_cfws();
    if (ct.type.empty() || lex.peek() != '/') return std::nullopt;
    lex.advance();
    (void)lex.skip_cfws();
    ct.subtype = lex.mime_token();
    if (ct.subtype.empty()) return std::nullopt;
    ct.params = parse_params(lex);
    return ct;
}

std::optional<ContentDisposition> parse_content_disposition(std::string_view value) {
    Lexer lex(value);
    (void)lex.skip_cfws();
    ContentDisposition cd;
    cd.disposition = lex.mime_token();
    if (cd.disposition.empty()) return std::nullopt;
    cd.params = parse_params(lex);
    return cd;
}

std::optional<std::string> parse_transfer_encoding(std::string_view value) {
    Lexer lex(value);
    (void)lex.skip_cfws();
    std::string token = lex.mime_token();
    (void)lex.skip_cfws();
    if (token.empty() || !lex.at_end()) return std::nullopt;
    return token;
}

std::vector<std::string> parse_content_language(std::string_view value) {
    // Language-Header = "Content-Language" ":" 1#Language-tag (RFC 3282 §2)
    std::vector<std::string> out;
    Lexer lex(value);
    (void)lex.skip_cfws();
    while (out.size() < kMaxParameters) {
        std::string tag = lex.atom(false);
        if (tag.empty()) break;
        out.push_back(std::move(tag));
        (void)lex.skip_cfws();
        if (lex.peek() != ',') break;
        lex.advance();
        (void)lex.skip_cfws();
    }
    return out;
}

std::optional<std::string> decoded_parameter(const std::vector<Parameter>& params,
                                             std::string_view name) {
    std::string extended = ascii_lowercase(name) + "*";
    for (const Parameter& p : params) {
        if (p.name == extended) return decode_extended(p.value);
    }
    for (const Parameter& p : params) {
        if (iequals(p.name, name)) return p.value;
    }
    return std::nullopt;
}

}  // namespace postern::mail
