#include "common/smtp/smtp_address.h"

#include <arpa/inet.h>

#include "common/base/ascii.h"
#include "common/smtp/smtp_utf8.h"

namespace postern::smtp {
namespace {

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_non_ascii(char c) {
    return static_cast<unsigned char>(c) >= 0x80;
}

// atext (RFC 5322 §3.2.3, used by RFC 5321 §4.1.2)
bool is_atext(char c) {
    if (is_alpha(c) || is_digit(c)) return true;
    for (const char special : std::string_view("!#$%&'*+-/=?^_`{|}~")) {
        if (c == special) return true;
    }
    return false;
}

// qtextSMTP = %d32-33 / %d35-91 / %d93-126
bool is_qtext(char c) {
    return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

// What goes wrong while scanning, before it is turned into a reply.
enum class Fault { Syntax, TooLong, Utf8NotAllowed, UnsupportedLiteral };

// Records why scanning stopped; returns false so callers can `return failed(...)`.
bool failed(Fault& fault, Fault why) {
    fault = why;
    return false;
}

struct Scanner {
    std::string_view s;
    std::size_t i = 0;
    bool allow_utf8 = false;
    Path* path = nullptr;

    bool at_end() const { return i >= s.size(); }
    char peek() const { return at_end() ? '\0' : s[i]; }
    bool eat(char c) {
        if (at_end() || s[i] != c) return false;
        ++i;
        return true;
    }
    // Consumes one UTF-8 sequence at i if allowed; records that UTF-8 was seen.
    bool eat_utf8(std::string* out, Fault& fault) {
        const std::size_t n = utf8_sequence_length(s.substr(i));
        if (n == 0) return failed(fault, Fault::Syntax);
        if (!allow_utf8) return failed(fault, Fault::Utf8NotAllowed);
        if (out != nullptr) out->append(s.substr(i, n));
        path->utf8 = true;
        i += n;
        return true;
    }
};

// Dot-string = Atom *("."  Atom)     Atom = 1*atext   (RFC 6531: atext =/ UTF8-non-ascii)
bool scan_dot_string(Scanner& sc, std::string& out, Fault& fault) {
    for (;;) {
        const std::size_t start = sc.i;
        while (!sc.at_end()) {
            if (is_atext(sc.peek())) {
                out += sc.s[sc.i++];
            } else if (is_non_ascii(sc.peek())) {
                if (!sc.eat_utf8(&out, fault)) return false;
            } else {
                break;
            }
        }
        if (sc.i == start) return failed(fault, Fault::Syntax);
        if (!sc.eat('.')) return true;
        out += '.';
    }
}

// Quoted-string = DQUOTE *QcontentSMTP DQUOTE
// QcontentSMTP = qtextSMTP / quoted-pairSMTP;  quoted-pairSMTP = %d92 %d32-126
bool scan_quoted_string(Scanner& sc, std::string& out, Fault& fault) {
    if (!sc.eat('"')) return failed(fault, Fault::Syntax);
    while (!sc.at_end()) {
        const char c = sc.peek();
        if (c == '"') {
            ++sc.i;
            return true;
        }
        if (c == '\\') {
            ++sc.i;
            if (sc.at_end() || sc.peek() < 32 || sc.peek() > 126) break;
            out += sc.s[sc.i++];
        } else if (is_qtext(c)) {
            out += c;
            ++sc.i;
        } else if (is_non_ascii(c)) {
            if (!sc.eat_utf8(&out, fault)) return false;
        } else {
            break;
        }
    }
    return failed(fault, Fault::Syntax);
}

// Domain = sub-domain *("." sub-domain)
// sub-domain = Let-dig [Ldh-str]; Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig
// RFC 6531: sub-domain =/ U-label (any non-ASCII label; IDNA checks are not ours)
bool scan_domain(Scanner& sc, std::string& out, Fault& fault) {
    const std::size_t start = sc.i;
    for (;;) {
        const std::size_t label = sc.i;
        while (!sc.at_end()) {
            const char c = sc.peek();
            if (is_alpha(c) || is_digit(c) || c == '-') {
                out += ascii_lower(c);
                ++sc.i;
            } else if (is_non_ascii(c)) {
                if (!sc.eat_utf8(&out, fault)) return false;
            } else {
                break;
            }
        }
        const std::string_view text = sc.s.substr(label, sc.i - label);
        if (text.empty() || text.front() == '-' || text.back() == '-') {
            return failed(fault, Fault::Syntax);
        }
        if (text.size() > kMaxLabelBytes) return failed(fault, Fault::TooLong);
        if (!sc.eat('.')) break;
        out += '.';
    }
    if (sc.i - start > kMaxDomainBytes) return failed(fault, Fault::TooLong);
    return true;
}

// IPv4-address-literal = Snum 3("."  Snum);  Snum = 1*3DIGIT  ; 0-255
bool valid_ipv4(std::string_view s) {
    int parts = 0;
    std::size_t i = 0;
    for (; parts < 4; ++parts) {
        if (parts > 0) {
            if (i >= s.size() || s[i] != '.') return false;
            ++i;
        }
        int value = 0;
        std::size_t digits = 0;
        while (i < s.size() && is_digit(s[i]) && digits < 3)
            value = value * 10 + (s[i++] - '0'), ++digits;
        if (digits == 0 || value > 255) return false;
    }
    return i == s.size();
}

// IPv6-address-literal = "IPv6:" IPv6-addr  (forms of RFC 5321 §4.1.3; inet_pton
// accepts exactly these once we exclude zone ids and other characters).
bool valid_ipv6(std::string_view s) {
    if (s.empty() || s.size() > 45) return false;  // INET6_ADDRSTRLEN - 1
    for (const char c : s) {
        if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
              c == '.')) {
            return false;
        }
    }
    in6_addr addr{};
    return inet_pton(AF_INET6, std::string(s).c_str(), &addr) == 1;
}

// address-literal = "[" ( IPv4-address-literal / IPv6-address-literal /
//                         General-address-literal ) "]"
bool scan_address_literal(Scanner& sc, Fault& fault) {
    if (!sc.eat('[')) return failed(fault, Fault::Syntax);
    const std::size_t close = sc.s.find(']', sc.i);
    if (close == std::string_view::npos) return failed(fault, Fault::Syntax);
    const std::string_view body = sc.s.substr(sc.i, close - sc.i);
    sc.i = close + 1;
    if (valid_ipv4(body)) {
        sc.path->domain = "[" + std::string(body) + "]";
        sc.path->domain_kind = DomainKind::Ipv4Literal;
        return true;
    }
    if (istarts_with(body, "IPv6:") && valid_ipv6(body.substr(5))) {
        sc.path->domain = "[IPv6:" + ascii_lowercase(body.substr(5)) + "]";
        sc.path->domain_kind = DomainKind::Ipv6Literal;
        return true;
    }
    // General-address-literal = Standardized-tag ":" 1*dcontent: no tag but
    // IPv6 is registered, so anything else is unusable.
    const std::size_t colon = body.find(':');
    const bool tagged = colon != std::string_view::npos && colon > 0;
    return failed(fault, tagged ? Fault::UnsupportedLiteral : Fault::Syntax);
}

// Mailbox = Local-part "@" ( Domain / address-literal )
// Local-part = Dot-string / Quoted-string
bool scan_mailbox(Scanner& sc, Fault& fault) {
    Path& p = *sc.path;
    const std::size_t start = sc.i;
    p.quoted_local_part = sc.peek() == '"';
    const bool ok = p.quoted_local_part ? scan_quoted_string(sc, p.local_part, fault)
                                        : scan_dot_string(sc, p.local_part, fault);
    if (!ok) return false;
    if (sc.i - start > kMaxLocalPartBytes) return failed(fault, Fault::TooLong);
    if (!sc.eat('@')) return failed(fault, Fault::Syntax);
    if (sc.peek() == '[') {
        if (!scan_address_literal(sc, fault)) return false;
    } else {
        if (!scan_domain(sc, p.domain, fault)) return false;
        p.domain_kind = DomainKind::Name;
    }
    p.percent_hack = p.local_part.find('%') != std::string::npos;
    p.bang_path = p.local_part.find('!') != std::string::npos;
    p.quoted_at = p.quoted_local_part && p.local_part.find('@') != std::string::npos;
    return true;
}

// A-d-l = At-domain *( "," At-domain );  At-domain = "@" Domain
// Accepted and ignored (RFC 5321 §4.1.1.3, §C), but reported to policy.
bool scan_source_route(Scanner& sc, Fault& fault) {
    do {
        if (!sc.eat('@')) return failed(fault, Fault::Syntax);
        std::string ignored;
        if (!scan_domain(sc, ignored, fault)) return false;
    } while (sc.eat(','));
    if (!sc.eat(':')) return failed(fault, Fault::Syntax);
    sc.path->had_source_route = true;
    return true;
}

ParseError to_error(Fault fault, PathRole role) {
    const bool sender = role == PathRole::Reverse;
    const std::string enhanced = sender ? "5.1.7" : "5.1.3";
    switch (fault) {
        case Fault::TooLong:
            return parse_error(501, enhanced, "Path too long");  // RFC 5321 §4.5.3.1.10
        case Fault::Utf8NotAllowed:
            // RFC 6531 §3.7.4.1 / RFC 6533: UTF-8 address without SMTPUTF8.
            return parse_error(553, "5.6.7", "Address requires SMTPUTF8");
        case Fault::UnsupportedLiteral:
            return parse_error(501, enhanced, "Unsupported address literal");
        case Fault::Syntax:
            break;
    }
    return parse_error(501, enhanced,
                       sender ? "Bad sender address syntax" : "Bad recipient address syntax");
}

bool is_dot_string(std::string_view s) {
    if (s.empty() || s.front() == '.' || s.back() == '.') return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '.' ? s[i - 1] == '.' : !(is_atext(s[i]) || is_non_ascii(s[i]))) return false;
    }
    return true;
}

}  // namespace

std::string Path::address() const {
    if (is_null) return {};
    if (is_postmaster) return local_part;
    std::string out;
    if (is_dot_string(local_part)) {
        out = local_part;
    } else {
        out += '"';
        for (const char c : local_part) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "@" + domain;
}

// Reverse-path = Path / "<>"
// Forward-path = Path           ; RCPT also "<Postmaster>" (RFC 5321 §4.1.1.3)
// Path = "<" [ A-d-l ":" ] Mailbox ">"
Result<PathPrefix, ParseError> parse_path_prefix(std::string_view text,
                                                 const PathOptions& options) {
    PathPrefix out;
    Scanner sc{text, 0, options.allow_utf8, &out.path};
    Fault fault = Fault::Syntax;
    if (!sc.eat('<')) return fail(to_error(fault, options.role));
    if (options.role == PathRole::Reverse && sc.eat('>')) {
        out.path.is_null = true;
        out.consumed = sc.i;
        return out;
    }
    constexpr std::string_view kPostmaster = "Postmaster>";
    if (options.role == PathRole::Forward && istarts_with(text.substr(1), kPostmaster)) {
        out.path.is_postmaster = true;
        out.path.local_part = std::string(text.substr(1, kPostmaster.size() - 1));
        out.consumed = 1 + kPostmaster.size();
        return out;
    }
    if (sc.peek() == '@' && !scan_source_route(sc, fault))
        return fail(to_error(fault, options.role));
    if (!scan_mailbox(sc, fault)) return fail(to_error(fault, options.role));
    if (!sc.eat('>')) return fail(to_error(Fault::Syntax, options.role));
    if (sc.i > kMaxPathBytes) return fail(to_error(Fault::TooLong, options.role));
    out.consumed = sc.i;
    return out;
}

Result<Path, ParseError> parse_path(std::string_view text, const PathOptions& options) {
    auto prefix = parse_path_prefix(text, options);
    if (!prefix) return fail(prefix.error());
    if (prefix->consumed != text.size()) return fail(to_error(Fault::Syntax, options.role));
    return std::move(prefix->path);
}

Result<Path, ParseError> parse_mailbox(std::string_view text, bool allow_utf8) {
    Path path;
    Scanner sc{text, 0, allow_utf8, &path};
    Fault fault = Fault::Syntax;
    if (!scan_mailbox(sc, fault)) return fail(to_error(fault, PathRole::Forward));
    if (!sc.at_end()) return fail(to_error(Fault::Syntax, PathRole::Forward));
    return path;
}

std::string normalize_domain(std::string_view domain) {
    return ascii_lowercase(domain);
}

}  // namespace postern::smtp
